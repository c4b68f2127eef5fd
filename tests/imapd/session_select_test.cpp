// SPDX-License-Identifier: AGPL-3.0-or-later
// The selected state: SELECT, EXAMINE, CLOSE, UNSELECT, EXPUNGE, UID EXPUNGE, STORE, COPY,
// MOVE, APPEND into the selected mailbox.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "tests/imapd/imap_fixture.hpp"

namespace chapar::imap::test {
namespace {

// SELECT INBOX as an IMAP4rev1 client sees it, with tag "s".
std::string select_inbox(ImapFixture& f, std::string_view command = "SELECT",
                         std::string_view done = "OK [READ-WRITE] Select completed.") {
  store::Mailbox inbox = f.mailbox(kAlice, "INBOX");
  const bool read_only = command == "EXAMINE";
  return fmt::format(
      "C: s {} INBOX\n"
      "S: * FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\n"
      "S: * OK [PERMANENTFLAGS {}] {}\n"
      "S: * 3 EXISTS\n"
      "S: * 0 RECENT\n"
      "S: * OK [UNSEEN 1] First unseen.\n"
      "S: * OK [UIDVALIDITY {}] UIDs valid.\n"
      "S: * OK [UIDNEXT 4] Predicted next UID.\n"
      "S: * OK [HIGHESTMODSEQ {}] Highest.\n"
      "S: s {}\n",
      command, read_only ? "()" : "(\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)",
      read_only ? "Read-only mailbox." : "Flags permitted.", inbox.uidvalidity,
      inbox.highest_modseq, done);
}

TEST_CASE("imap: SELECT, EXAMINE, UNSELECT, CLOSE") {
  ImapFixture f;
  f.replay(kLogin + select_inbox(f) + R"(C: u UNSELECT
S: u OK Unselect completed.
)");
  f.reset();
  f.play(kLogin + select_inbox(f, "EXAMINE", "OK [READ-ONLY] Examine completed.") +
         R"(C: a STORE 1 +FLAGS (\Deleted)
S: a NO Mailbox is read-only.
C: b EXPUNGE
S: b NO Mailbox is read-only.
C: c SELECT Nope
S: * OK [CLOSED] Previous mailbox closed.
S: c NO [NONEXISTENT] Mailbox doesn't exist.
C: d FETCH 1 FLAGS
S: d BAD No mailbox selected.
)");
  // CLOSE expunges silently.
  f.reset();
  f.play(kLogin + select_inbox(f) + R"(C: a STORE 2 +FLAGS.SILENT (\Deleted)
S: a OK Store completed.
C: b CLOSE
S: b OK Close completed.
C: c STATUS INBOX (MESSAGES)
S: * STATUS INBOX (MESSAGES 2)
S: c OK Status completed.
)");
}

TEST_CASE("imap: SELECT as an IMAP4rev2 client, with CONDSTORE") {
  ImapFixture f;
  store::Mailbox inbox = f.mailbox(kAlice, "INBOX");
  f.reset();
  f.play(kLogin + fmt::format(R"(C: e ENABLE IMAP4rev2
S: * ENABLED IMAP4rev2
S: e OK Enabled.
C: s SELECT INBOX (CONDSTORE)
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.
S: * 3 EXISTS
S: * OK [UIDVALIDITY {0}] UIDs valid.
S: * OK [UIDNEXT 4] Predicted next UID.
S: * OK [HIGHESTMODSEQ {1}] Highest.
S: * LIST () "/" INBOX
S: s OK [READ-WRITE] Select completed.
C: f FETCH 1 (FLAGS)
S: * 1 FETCH (FLAGS () MODSEQ ({2}))
S: f OK Fetch completed.
)",
                              inbox.uidvalidity, inbox.highest_modseq,
                              f.store->entries(inbox.id)->front().modseq));
}

TEST_CASE("imap: STORE, with and without .SILENT, and UNCHANGEDSINCE") {
  ImapFixture f;
  f.replay(kLogin + select_inbox(f) + R"(C: a STORE 1:2 +FLAGS (\Seen $Work)
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work \*)] Flags permitted.
S: * 1 FETCH (FLAGS (\Seen $Work))
S: * 2 FETCH (FLAGS (\Seen $Work))
S: a OK Store completed.
)");
  f.reset();
  f.play(kLogin + select_inbox(f) + R"(C: a STORE 1:2 +FLAGS.SILENT (\Seen $Work)
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work \*)] Flags permitted.
S: a OK Store completed.
C: b UID STORE 2 -FLAGS.SILENT ($Work)
S: b OK Store completed.
C: c STORE 2 FLAGS (\Flagged)
S: * 2 FETCH (FLAGS (\Flagged))
S: c OK Store completed.
)");
  f.reset();
  store::Mailbox inbox = f.mailbox(kAlice, "INBOX");
  const store::ModSeq m = inbox.highest_modseq;
  f.play(kLogin + select_inbox(f) +
         fmt::format(R"(C: a STORE 1 (UNCHANGEDSINCE {0}) +FLAGS.SILENT (\Answered)
S: * OK [HIGHESTMODSEQ {0}] Highest.
S: * 1 FETCH (MODSEQ ({1}))
S: a OK Store completed.
C: b UID STORE 1,2 (UNCHANGEDSINCE {0}) +FLAGS.SILENT (\Draft)
S: * 2 FETCH (UID 2 MODSEQ ({2}))
S: b OK [MODIFIED 1] Conditional STORE failed.
C: c STORE 1 +FLAGS (\Bogus)
S: c BAD Invalid flag \Bogus.
C: d STORE 9 +FLAGS (\Seen)
S: d BAD Invalid message sequence number.
)",
                     m, m + 1, m + 2));
}

TEST_CASE("imap: EXPUNGE and UID EXPUNGE") {
  ImapFixture f;
  f.replay(kLogin + select_inbox(f) + R"(C: a STORE 1:3 +FLAGS.SILENT (\Deleted)
S: a OK Store completed.
C: b UID EXPUNGE 2:3
S: * 3 EXPUNGE
S: * 2 EXPUNGE
S: b OK Expunge completed.
)");
  f.reset();
  f.play(kLogin + select_inbox(f) + R"(C: a STORE 1:3 +FLAGS.SILENT (\Deleted)
S: a OK Store completed.
C: b UID EXPUNGE 2:3
S: * 3 EXPUNGE
S: * 2 EXPUNGE
S: b OK Expunge completed.
C: c EXPUNGE
S: * 1 EXPUNGE
S: c OK Expunge completed.
C: d UID EXPUNGE 7
S: d OK Expunge completed.
)");
}

TEST_CASE("imap: COPY and MOVE with COPYUID") {
  ImapFixture f;
  store::Mailbox archive = f.mailbox(kAlice, "Archive");
  f.reset();
  f.play(kLogin + select_inbox(f) +
         fmt::format(R"(C: a COPY 1:2 Archive
S: a OK [COPYUID {0} 1:2 1:2] Copy completed.
C: b UID MOVE 3 Archive
S: * OK [COPYUID {0} 3 3] Moved UIDs.
S: * 3 EXPUNGE
S: b OK Move completed.
C: c MOVE 1 Nope
S: c NO [TRYCREATE] Mailbox doesn't exist.
C: d COPY 7 Archive
S: d BAD Invalid message sequence number.
C: e UID COPY 7 Archive
S: e OK Copy completed.
C: f STATUS Archive (MESSAGES)
S: * STATUS Archive (MESSAGES 3)
S: f OK Status completed.
)",
                     archive.uidvalidity));
}

TEST_CASE("imap: APPEND with flags and date, MULTIAPPEND, into the selected mailbox") {
  ImapFixture f;
  store::Mailbox inbox = f.mailbox(kAlice, "INBOX");
  store::Mailbox drafts = f.mailbox(kAlice, "Drafts");
  f.reset();
  f.play(kLogin +
         fmt::format(R"(C: a APPEND Drafts (\Draft $Later) "05-Feb-2024 10:00:00 +0100" {{11+}}
C: Subject: x
S: a OK [APPENDUID {0} 1] Append completed.
C: b APPEND Drafts {{3+}}
C: one {{3+}}
C: two
S: b OK [APPENDUID {0} 2:3] Append completed.
C: c APPEND Nope {{1+}}
C: x
S: c NO [TRYCREATE] Mailbox doesn't exist.
C: d APPEND Drafts {{0+}}
C: 
S: d NO Can't save a zero byte message.
C: e APPEND Drafts "yesterday" {{1+}}
C: x
S: e BAD Invalid internal date.
)",
                     drafts.uidvalidity) +
         select_inbox(f) +
         fmt::format(R"(C: g APPEND INBOX {{5}}
S: + OK
C: hello
S: * 4 EXISTS
S: g OK [APPENDUID {0} 4] Append completed.
)",
                     inbox.uidvalidity));
  // What APPEND stored: flags, keywords, date, and the content.
  auto entries = f.store->entries(drafts.id);
  REQUIRE(entries.has_value());
  REQUIRE(entries->size() == 3);
  CHECK((*entries)[0].flags == store::kDraft);
  CHECK((*entries)[0].keywords == std::vector<std::string>{"$Later"});
  CHECK((*entries)[0].internal_date == 1707123600);
  CHECK((*entries)[1].internal_date == kNow);
  CHECK(*f.store->read((*entries)[2].message, 0, 100) == "two");
}

}  // namespace
}  // namespace chapar::imap::test
