// SPDX-License-Identifier: AGPL-3.0-or-later
// Changes made by others reach a selected session where RFC 9051 §7.5.1 allows: two sessions
// on one mailbox, new mail from another process, IDLE, QRESYNC's VANISHED.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "tests/imapd/imap_fixture.hpp"

namespace chapar::imap::test {
namespace {

std::unique_ptr<chapar::test::TestHost> selected(ImapFixture& f, std::string_view extra = "") {
  auto host = f.open();
  host->feed("l LOGIN alice@example.org secret\r\n");
  host->feed(extra);
  host->feed("s SELECT INBOX\r\n");
  host->take_output();
  return host;
}

TEST_CASE("imap: two sessions see each other's flag changes and expunges when allowed") {
  ImapFixture f;
  auto a = selected(f);
  auto b = selected(f);
  // B changes flags; A hears of it at its next command, not before.
  f.converse(*b, R"(C: b1 STORE 1 +FLAGS (\Seen)
S: * 1 FETCH (FLAGS (\Seen))
S: b1 OK Store completed.
C: b2 STORE 2 +FLAGS.SILENT (\Deleted)
S: b2 OK Store completed.
C: b3 EXPUNGE
S: * 2 EXPUNGE
S: b3 OK Expunge completed.
)");
  CHECK(a->output().empty());
  // No EXPUNGE during FETCH, STORE or SEARCH; the expunged message cannot be fetched.
  f.converse(*a, R"(C: a1 FETCH 1:3 (FLAGS)
S: * 1 FETCH (FLAGS (\Seen))
S: * 3 FETCH (FLAGS ())
S: a1 OK [EXPUNGEISSUED] Some messages were already expunged.
C: a2 STORE 3 +FLAGS (\Flagged)
S: * 3 FETCH (FLAGS (\Flagged))
S: a2 OK Store completed.
C: a3 SEARCH ALL
S: * SEARCH 1 3
S: a3 OK Search completed.
C: a4 NOOP
S: * 2 EXPUNGE
S: a4 OK NOOP completed.
)");
  // B hears of A's STORE; UID commands may carry EXPUNGE.
  f.converse(*b, R"(C: b4 UID STORE 1 +FLAGS.SILENT (\Deleted)
S: * 2 FETCH (FLAGS (\Flagged))
S: b4 OK Store completed.
C: b5 UID EXPUNGE 1
S: * 1 EXPUNGE
S: b5 OK Expunge completed.
)");
  f.converse(*a, R"(C: a5 UID FETCH 1:* (FLAGS)
S: * 2 FETCH (UID 3 FLAGS (\Flagged))
S: * 1 EXPUNGE
S: a5 OK Fetch completed.
C: a6 FETCH 1 (UID)
S: * 1 FETCH (UID 3)
S: a6 OK Fetch completed.
)");
}

TEST_CASE("imap: new mail from another process, and CONDSTORE's MODSEQ in updates") {
  ImapFixture f;
  auto a = selected(f, "e ENABLE CONDSTORE\r\n");
  auto b = selected(f);
  store::Mailbox inbox = f.mailbox(kAlice, "INBOX");
  f.deliver_to_alice("Subject: four\r\n\r\nnew\r\n");
  f.watch.notify(inbox.id);  // what the daemon's change feed does
  f.converse(*b, R"(C: b1 STORE 1 +FLAGS.SILENT (\Answered)
S: * 4 EXISTS
S: b1 OK Store completed.
)");
  f.converse(*a, fmt::format(R"(C: a1 NOOP
S: * 4 EXISTS
S: * 1 FETCH (FLAGS (\Answered) MODSEQ ({}))
S: a1 OK NOOP completed.
C: a2 FETCH 4 (UID)
S: * 4 FETCH (UID 4)
S: a2 OK Fetch completed.
)",
                             inbox.highest_modseq + 2));
}

TEST_CASE("imap: IDLE tells changes at once") {
  ImapFixture f;
  auto a = selected(f);
  auto b = selected(f);
  store::Mailbox inbox = f.mailbox(kAlice, "INBOX");
  f.converse(*a, R"(C: i IDLE
S: + idling
)");
  f.deliver_to_alice("Subject: four\r\n\r\nnew\r\n");
  f.watch.notify(inbox.id);
  a->drain();  // the report runs as the connection's own work
  CHECK(a->take_output() == "* 4 EXISTS\r\n");
  b->feed("b1 STORE 2 +FLAGS (\\Deleted)\r\nb2 EXPUNGE\r\n");
  b->take_output();
  a->drain();
  // Both changes arrive before the report: the flag change of a message now gone is moot.
  CHECK(a->take_output() == "* 2 EXPUNGE\r\n");
  f.converse(*a, R"(C: DONE
S: i OK Idle completed.
C: j IDLE
S: + idling
C: NOTDONE
S: j BAD Expected DONE.
)");
  // Shutdown ends an IDLE.
  a->feed("k IDLE\r\n");
  a->take_output();
  a->session().on_shutdown();
  CHECK(a->take_output() == "* BYE Server shutting down.\r\n");
  CHECK(a->closed());
}

TEST_CASE("imap: QRESYNC: SELECT with VANISHED (EARLIER), and VANISHED for expunges") {
  ImapFixture f;
  store::Mailbox inbox = f.mailbox(kAlice, "INBOX");
  const store::ModSeq before = inbox.highest_modseq;
  auto b = selected(f);
  b->feed(
      "b1 STORE 3 +FLAGS.SILENT (\\Seen)\r\nb2 STORE 1 +FLAGS.SILENT (\\Deleted)\r\n"
      "b3 EXPUNGE\r\n");
  b->take_output();
  auto a = f.open();
  a->feed("l LOGIN alice@example.org secret\r\n");
  a->take_output();
  f.converse(*a, fmt::format(R"(C: q SELECT INBOX (QRESYNC ({0} {1}))
S: q BAD QRESYNC is not enabled.
C: e ENABLE QRESYNC
S: * ENABLED QRESYNC
S: e OK Enabled.
C: s SELECT INBOX (QRESYNC ({0} {1} 1:3))
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.
S: * 2 EXISTS
S: * 0 RECENT
S: * OK [UNSEEN 1] First unseen.
S: * OK [UIDVALIDITY {0}] UIDs valid.
S: * OK [UIDNEXT 4] Predicted next UID.
S: * OK [HIGHESTMODSEQ {2}] Highest.
S: * VANISHED (EARLIER) 1
S: * 2 FETCH (UID 3 FLAGS (\Seen) MODSEQ ({3}))
S: s OK [READ-WRITE] Select completed.
)",
                             inbox.uidvalidity, before, before + 3, before + 1));
  b->feed("b4 UID MOVE 2 Archive\r\n");
  b->take_output();
  f.converse(*a, fmt::format(R"(C: n NOOP
S: * VANISHED 2
S: n OK NOOP completed.
C: u UID FETCH 1:* (FLAGS) (CHANGEDSINCE {0} VANISHED)
S: * VANISHED (EARLIER) 1:2
S: * 1 FETCH (UID 3 FLAGS (\Seen) MODSEQ ({1}))
S: u OK Fetch completed.
)",
                             before, before + 1));
}

TEST_CASE("imap: a session's own change announced back needs no look, and hides nothing") {
  ImapFixture f;
  auto a = selected(f);
  store::Mailbox inbox = f.mailbox(kAlice, "INBOX");
  f.converse(*a, R"(C: a1 STORE 1 +FLAGS (\Flagged)
S: * 1 FETCH (FLAGS (\Flagged))
S: a1 OK Store completed.
C: i IDLE
S: + idling
)");
  // The store's announcement of A's own change, as the change feed passes it on.
  f.watch.notify(inbox.id, inbox.highest_modseq + 1);
  a->drain();
  CHECK(a->take_output() == "");
  // Another process's change, announced: told at once.
  store::FlagChange change;
  change.mailbox = inbox.id;
  change.uids = {2};
  change.op = store::FlagOp::kAdd;
  change.flags = store::kSeen;
  auto changed = f.store->change_flags_sync(change);
  REQUIRE(changed.has_value());
  REQUIRE(changed->updated.size() == 1);
  f.watch.notify(inbox.id, changed->updated.front().modseq);
  a->drain();
  CHECK(a->take_output() == "* 2 FETCH (FLAGS (\\Seen))\r\n");
  f.converse(*a, R"(C: DONE
S: i OK Idle completed.
)");
  // A change that another process made before A's own, not yet announced, comes with A's
  // answer: A's change then did not take the MODSEQ after the last A reported.
  change.uids = {3};
  REQUIRE(f.store->change_flags_sync(change).has_value());
  f.converse(*a, R"(C: a2 STORE 1 -FLAGS (\Flagged)
S: * 1 FETCH (FLAGS ())
S: * 3 FETCH (FLAGS (\Seen))
S: a2 OK Store completed.
C: a3 NOOP
S: a3 OK NOOP completed.
)");
}

TEST_CASE("imap: a mailbox deleted under a session ends it") {
  ImapFixture f;
  auto a = f.open();
  a->feed("l LOGIN alice@example.org secret\r\nc CREATE Gone\r\ns SELECT Gone\r\n");
  a->take_output();
  auto b = selected(f);
  f.converse(*b, R"(C: d DELETE Gone
S: d OK Delete completed.
)");
  CHECK(a->take_output() == "");
  a->feed("n NOOP\r\n");
  CHECK(a->take_output() == "* BYE Selected mailbox was deleted, have to disconnect.\r\n");
  CHECK(a->closed());
}

}  // namespace
}  // namespace chapar::imap::test
