// SPDX-License-Identifier: AGPL-3.0-or-later
#include "pop3d/maildrop.hpp"

#include <doctest/doctest.h>

namespace chapar::pop3 {
namespace {

Maildrop make_maildrop() {
  store::Mailbox mailbox;
  mailbox.id = 7;
  mailbox.uidvalidity = 0x65e1c3a0;
  std::vector<store::Entry> entries(3);
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].uid = static_cast<store::Uid>(10 * (i + 1));
    entries[i].message = static_cast<store::MessageId>(100 + i);
    entries[i].size = 100 * (i + 1);
  }
  return Maildrop(mailbox, entries);
}

}  // namespace

TEST_CASE("message numbers follow the snapshot") {
  Maildrop drop = make_maildrop();
  CHECK(drop.mailbox() == 7);
  CHECK(drop.count() == 3);
  CHECK(drop.live_count() == 3);
  CHECK(drop.live_size() == 600);
  CHECK(drop.lookup(0) == Maildrop::Lookup::kNoSuchMessage);
  CHECK(drop.lookup(4) == Maildrop::Lookup::kNoSuchMessage);
  CHECK(drop.lookup(2) == Maildrop::Lookup::kFound);
  CHECK(drop.message(2).uid == 20);
  CHECK(drop.message(2).message == 101);
  CHECK(drop.message(2).size == 200);
}

TEST_CASE("deletion marks change STAT and are undone by RSET") {
  Maildrop drop = make_maildrop();
  drop.mark_deleted(3);
  drop.mark_deleted(1);
  drop.mark_deleted(1);
  CHECK(drop.lookup(1) == Maildrop::Lookup::kDeleted);
  CHECK(drop.count() == 3);
  CHECK(drop.live_count() == 1);
  CHECK(drop.live_size() == 200);
  CHECK(drop.deleted_uids() == std::vector<store::Uid>{10, 30});
  drop.unmark_all();
  CHECK(drop.live_count() == 3);
  CHECK(drop.live_size() == 600);
  CHECK(drop.deleted_uids().empty());
}

TEST_CASE("unique ids combine UIDVALIDITY and UID") {
  Maildrop drop = make_maildrop();
  CHECK(drop.unique_id(1) == "65e1c3a0.0000000a");
  CHECK(drop.unique_id(3) == "65e1c3a0.0000001e");
}

TEST_CASE("an empty maildrop") {
  Maildrop drop(store::Mailbox{}, {});
  CHECK(drop.count() == 0);
  CHECK(drop.live_size() == 0);
  CHECK(drop.lookup(1) == Maildrop::Lookup::kNoSuchMessage);
}

}  // namespace chapar::pop3
