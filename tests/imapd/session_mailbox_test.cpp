// SPDX-License-Identifier: AGPL-3.0-or-later
// Mailbox commands: LIST (with LIST-EXTENDED, SPECIAL-USE, LIST-STATUS), LSUB, CREATE,
// DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, NAMESPACE, STATUS, ENABLE.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "tests/imapd/imap_fixture.hpp"

namespace chapar::imap::test {
namespace {

TEST_CASE("imap: LIST of the standard mailboxes with their special use") {
  ImapFixture f;
  f.replay(kLogin + R"(C: a LIST "" *
S: * LIST (\HasNoChildren) "/" INBOX
S: * LIST (\HasNoChildren \Archive) "/" Archive
S: * LIST (\HasNoChildren \Drafts) "/" Drafts
S: * LIST (\HasNoChildren \Junk) "/" Junk
S: * LIST (\HasNoChildren \Sent) "/" Sent
S: * LIST (\HasNoChildren \Trash) "/" Trash
S: a OK List completed.
)");
}

TEST_CASE("imap: LIST patterns, the separator, extended options") {
  ImapFixture f;
  f.reset();
  f.play(kLogin + R"(C: a LIST "" ""
S: * LIST (\Noselect) "/" ""
S: a OK List completed.
C: b LIST "" inbox
S: * LIST (\HasNoChildren) "/" INBOX
S: b OK List completed.
C: c CREATE Projects/2024/
S: c OK Create completed.
C: d LIST "" %
S: * LIST (\HasNoChildren) "/" INBOX
S: * LIST (\HasNoChildren \Archive) "/" Archive
S: * LIST (\HasNoChildren \Drafts) "/" Drafts
S: * LIST (\HasNoChildren \Junk) "/" Junk
S: * LIST (\HasChildren) "/" Projects
S: * LIST (\HasNoChildren \Sent) "/" Sent
S: * LIST (\HasNoChildren \Trash) "/" Trash
S: d OK List completed.
C: e LIST Projects/ %
S: * LIST (\HasNoChildren) "/" Projects/2024
S: e OK List completed.
C: f LIST (SPECIAL-USE) "" * RETURN (STATUS (MESSAGES UNSEEN))
S: * LIST (\HasNoChildren \Archive) "/" Archive
S: * STATUS Archive (MESSAGES 0 UNSEEN 0)
S: * LIST (\HasNoChildren \Drafts) "/" Drafts
S: * STATUS Drafts (MESSAGES 0 UNSEEN 0)
S: * LIST (\HasNoChildren \Junk) "/" Junk
S: * STATUS Junk (MESSAGES 0 UNSEEN 0)
S: * LIST (\HasNoChildren \Sent) "/" Sent
S: * STATUS Sent (MESSAGES 0 UNSEEN 0)
S: * LIST (\HasNoChildren \Trash) "/" Trash
S: * STATUS Trash (MESSAGES 0 UNSEEN 0)
S: f OK List completed.
C: g LIST "" (INBOX Junk) RETURN (STATUS (MESSAGES SIZE))
S: * LIST (\HasNoChildren) "/" INBOX
S: * STATUS INBOX (MESSAGES 3 SIZE )" +
         std::to_string(kMessages[0].size() + kMessages[1].size() + kMessages[2].size()) + R"()
S: * LIST (\HasNoChildren \Junk) "/" Junk
S: * STATUS Junk (MESSAGES 0 SIZE 0)
S: g OK List completed.
C: h LIST (FOO) "" *
S: h BAD Unknown LIST selection option.
)");
}

TEST_CASE("imap: subscriptions, LIST (SUBSCRIBED RECURSIVEMATCH) and LSUB") {
  ImapFixture f;
  f.reset();
  f.play(kLogin + R"(C: a CREATE Lists/chapar
S: a OK Create completed.
C: b SUBSCRIBE Lists/chapar
S: b OK Subscribe completed.
C: c LIST (SUBSCRIBED RECURSIVEMATCH) "" Lists
S: * LIST (\HasChildren) "/" Lists ("CHILDINFO" ("SUBSCRIBED"))
S: c OK List completed.
C: d LIST "" Lists/* RETURN (SUBSCRIBED)
S: * LIST (\HasNoChildren \Subscribed) "/" Lists/chapar
S: d OK List completed.
C: e LSUB "" Lists/*
S: * LSUB () "/" Lists/chapar
S: e OK Lsub completed.
C: f LSUB "" %
S: * LSUB () "/" INBOX
S: * LSUB () "/" Archive
S: * LSUB () "/" Drafts
S: * LSUB () "/" Junk
S: * LSUB (\Noselect) "/" Lists
S: * LSUB () "/" Sent
S: * LSUB () "/" Trash
S: f OK Lsub completed.
C: g UNSUBSCRIBE Lists/chapar
S: g OK Unsubscribe completed.
C: h LSUB "" Lists/*
S: h OK Lsub completed.
)");
}

TEST_CASE("imap: CREATE, RENAME, DELETE and their refusals") {
  ImapFixture f;
  f.reset();
  f.play(kLogin + R"(C: a CREATE x
S: a OK Create completed.
C: b CREATE x
S: b NO [ALREADYEXISTS] Mailbox already exists.
C: c RENAME x y
S: c OK Rename completed.
C: d DELETE x
S: d NO [NONEXISTENT] Mailbox doesn't exist.
C: e DELETE y
S: e OK Delete completed.
)");
  f.reset();
  f.play(kLogin + R"(C: a CREATE inbox
S: a NO [ALREADYEXISTS] Mailbox already exists.
C: b DELETE INBOX
S: b NO [CANNOT] INBOX cannot be deleted
C: c RENAME Drafts INBOX
S: c NO [ALREADYEXISTS] Mailbox already exists.
C: d CREATE "Entw&APw-rfe"
S: d OK Create completed.
C: e LIST "" Entw*
S: * LIST (\HasNoChildren) "/" Entw&APw-rfe
S: e OK List completed.
C: f CREATE "Bad&Name"
S: f BAD Mailbox name is not valid modified UTF-7.
C: g ENABLE UTF8=ACCEPT
S: * ENABLED UTF8=ACCEPT
S: g OK Enabled.
C: h LIST "" Entw*
S: * LIST (\HasNoChildren) "/" "Entwürfe"
S: h OK List completed.
)");
}

TEST_CASE("imap: renaming INBOX moves its messages and leaves it empty") {
  ImapFixture f;
  f.reset();
  f.play(kLogin + R"(C: a RENAME INBOX Old
S: a OK Rename completed.
C: b STATUS INBOX (MESSAGES UIDNEXT)
S: * STATUS INBOX (MESSAGES 0 UIDNEXT 4)
S: b OK Status completed.
C: c STATUS Old (MESSAGES)
S: * STATUS Old (MESSAGES 3)
S: c OK Status completed.
)");
}

TEST_CASE("imap: NAMESPACE, STATUS and ENABLE") {
  ImapFixture f;
  store::Mailbox inbox = f.mailbox(kAlice, "INBOX");
  f.reset();
  f.play(kLogin + fmt::format(R"(C: a NAMESPACE
S: * NAMESPACE (("" "/")) NIL NIL
S: a OK Namespace completed.
C: b STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED HIGHESTMODSEQ)
S: * STATUS INBOX (MESSAGES 3 UIDNEXT 4 UIDVALIDITY {} UNSEEN 3 DELETED 0 HIGHESTMODSEQ {})
S: b OK Status completed.
C: c STATUS Nope (MESSAGES)
S: c NO [NONEXISTENT] Mailbox doesn't exist.
)",
                              inbox.uidvalidity, inbox.highest_modseq));
  f.reset();
  f.play(kLogin + R"(C: a ENABLE CONDSTORE X-UNKNOWN
S: * ENABLED CONDSTORE
S: a OK Enabled.
C: b ENABLE QRESYNC CONDSTORE IMAP4rev2
S: * ENABLED QRESYNC IMAP4rev2
S: b OK Enabled.
C: c STATUS INBOX (FOO)
S: c BAD Unknown status item FOO.
)");
}

}  // namespace
}  // namespace chapar::imap::test
