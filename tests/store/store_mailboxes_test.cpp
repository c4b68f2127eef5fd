// SPDX-License-Identifier: AGPL-3.0-or-later
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "tests/store/store_fixture.hpp"

namespace chapar::store {
namespace {

using test::sample_body;
using test::StoreFixture;

std::vector<std::string> names(Store& store, AccountId account) {
  std::vector<std::string> out;
  auto mailboxes = store.list_mailboxes(account);
  REQUIRE(mailboxes);
  for (const auto& mailbox : *mailboxes) out.push_back(mailbox.name);
  return out;
}

TEST_CASE("store: create mailboxes") {
  StoreFixture f;
  AccountId a = f.add_account("a@example.org");
  test::Waiter<MailboxId> waiter;
  f.store->create_mailbox(a, "Projects/2024/Q1", SpecialUse::kNone, waiter.completion());
  auto id = waiter.get();
  REQUIRE(id);
  // RFC 9051 §6.3.4: superior names are created too.
  auto all = names(*f.store, a);
  CHECK(std::count(all.begin(), all.end(), "Projects") == 1);
  CHECK(std::count(all.begin(), all.end(), "Projects/2024") == 1);
  auto created = f.store->mailbox(*id);
  REQUIRE(created);
  CHECK(created->name == "Projects/2024/Q1");
  CHECK(created->account == a);
  CHECK_FALSE(created->subscribed);
  CHECK(created->uidnext == 1);
  CHECK(f.store->find_mailbox(a, "projects/2024/q1").error().code == Errc::kNotFound);

  CHECK(f.store->create_mailbox_sync(a, "Projects", SpecialUse::kNone).error().code ==
        Errc::kAlreadyExists);
  CHECK(f.store->create_mailbox_sync(a, "inbox", SpecialUse::kNone).error().code ==
        Errc::kAlreadyExists);
  for (const char* bad : {"", "/x", "x/", "a//b", "a*", "b%", "tab\there"}) {
    CAPTURE(bad);
    CHECK(f.store->create_mailbox_sync(a, bad, SpecialUse::kNone).error().code ==
          Errc::kInvalidArgument);
  }
  CHECK(f.store->create_mailbox_sync(999, "X", SpecialUse::kNone).error().code == Errc::kNotFound);
  auto flagged = f.store->create_mailbox_sync(a, "Important", SpecialUse::kArchive);
  REQUIRE(flagged);
  CHECK(f.store->mailbox(*flagged)->special_use == SpecialUse::kArchive);

  // "INBOX" is case-insensitive, also as a superior name.
  auto child = f.store->create_mailbox_sync(a, "inbox/Lists", SpecialUse::kNone);
  REQUIRE(child);
  CHECK(f.store->mailbox(*child)->name == "INBOX/Lists");
  CHECK(f.store->find_mailbox(a, "Inbox")->name == "INBOX");

  // A mailbox created again after deletion has a new UIDVALIDITY.
  uint32_t first = created->uidvalidity;
  REQUIRE(f.store->delete_mailbox_sync(a, "Projects/2024/Q1"));
  auto again = f.store->create_mailbox_sync(a, "Projects/2024/Q1", SpecialUse::kNone);
  REQUIRE(again);
  CHECK(f.store->mailbox(*again)->uidvalidity != first);
}

TEST_CASE("store: rename mailboxes with their inferiors") {
  StoreFixture f;
  AccountId a = f.add_account("a@example.org");
  REQUIRE(f.store->create_mailbox_sync(a, "Work/Clients/Acme", SpecialUse::kNone));
  REQUIRE(f.store->create_mailbox_sync(a, "Workshop", SpecialUse::kNone));
  MailboxId work = f.mailbox_id(a, "Work");
  uint32_t validity = f.store->mailbox(work)->uidvalidity;
  f.append(work, {sample_body("w")});

  test::Waiter<void> waiter;
  f.store->rename_mailbox(a, "Work", "Old/Work", waiter.completion());
  REQUIRE(waiter.get());
  auto renamed = f.store->mailbox(work);
  CHECK(renamed->name == "Old/Work");
  CHECK(renamed->uidvalidity == validity);
  CHECK(f.store->entries(work)->size() == 1);
  CHECK(f.store->find_mailbox(a, "Old/Work/Clients/Acme"));
  CHECK(f.store->find_mailbox(a, "Old/Work/Clients"));
  CHECK(f.store->find_mailbox(a, "Old"));
  CHECK(f.store->find_mailbox(a, "Workshop"));  // not an inferior of "Work"
  CHECK(f.store->find_mailbox(a, "Work").error().code == Errc::kNotFound);

  CHECK(f.store->rename_mailbox_sync(a, "Nothing", "X").error().code == Errc::kNotFound);
  CHECK(f.store->rename_mailbox_sync(a, "Workshop", "Sent").error().code == Errc::kAlreadyExists);
  CHECK(f.store->rename_mailbox_sync(a, "Workshop", "Workshop/Sub").error().code ==
        Errc::kInvalidArgument);
  CHECK(f.store->rename_mailbox_sync(a, "Workshop", "INBOX").error().code == Errc::kAlreadyExists);
}

TEST_CASE("store: renaming INBOX moves its messages and leaves it empty") {
  StoreFixture f;
  AccountId a = f.add_account("a@example.org");
  MailboxId inbox = f.mailbox_id(a, "INBOX");
  REQUIRE(f.store->create_mailbox_sync(a, "INBOX/Child", SpecialUse::kNone));
  REQUIRE(f.deliver({a}, sample_body("1")));
  REQUIRE(f.deliver({a}, sample_body("2")));
  auto before = f.store->mailbox(inbox);
  ModSeq modseq = before->highest_modseq;

  REQUIRE(f.store->rename_mailbox_sync(a, "inbox", "Saved"));
  auto after = f.store->mailbox(inbox);
  CHECK(after->name == "INBOX");
  CHECK(after->uidvalidity == before->uidvalidity);
  CHECK(after->uidnext == before->uidnext);
  CHECK(f.store->entries(inbox)->empty());
  CHECK(f.store->changes_since(inbox, modseq)->expunged == std::vector<Uid>{1, 2});

  auto saved = f.store->find_mailbox(a, "Saved");
  REQUIRE(saved);
  CHECK(saved->uidvalidity != before->uidvalidity);
  CHECK(saved->uidnext == 3);
  CHECK(f.store->entries(saved->id)->size() == 2);
  // RFC 9051 §6.3.6: inferior names of INBOX are unaffected.
  CHECK(f.store->find_mailbox(a, "INBOX/Child"));
  CHECK(f.store->find_mailbox(a, "Saved/Child").error().code == Errc::kNotFound);
  // New mail goes to the (new, empty) INBOX with fresh UIDs.
  REQUIRE(f.deliver({a}, sample_body("3")));
  CHECK(f.store->entries(inbox)->at(0).uid == 3);
}

TEST_CASE("store: delete and subscribe") {
  StoreFixture f;
  AccountId a = f.add_account("a@example.org");
  auto inbox_delete = f.store->delete_mailbox_sync(a, "INBOX");
  REQUIRE_FALSE(inbox_delete);
  CHECK(inbox_delete.error().code == Errc::kPermissionDenied);
  CHECK(f.store->delete_mailbox_sync(a, "Nothing").error().code == Errc::kNotFound);

  REQUIRE(f.store->create_mailbox_sync(a, "Lists/Linux", SpecialUse::kNone));
  MailboxId lists = f.mailbox_id(a, "Lists");
  f.append(lists, {sample_body("1"), sample_body("2")});
  CHECK(f.store->account(a)->used_bytes > 0);
  test::Waiter<void> deleted;
  f.store->delete_mailbox(a, "Lists", deleted.completion());
  REQUIRE(deleted.get());
  CHECK(f.store->mailbox(lists).error().code == Errc::kNotFound);
  CHECK(f.store->find_mailbox(a, "Lists/Linux"));  // inferiors stay
  CHECK(f.store->account(a)->used_bytes == 0);
  CHECK(f.store->stats()->messages == 0);

  test::Waiter<void> subscribed;
  f.store->set_subscribed(a, "Lists/Linux", true, subscribed.completion());
  REQUIRE(subscribed.get());
  CHECK(f.store->find_mailbox(a, "Lists/Linux")->subscribed);
  REQUIRE(f.store->set_subscribed_sync(a, "inbox", false));
  CHECK_FALSE(f.store->find_mailbox(a, "INBOX")->subscribed);
  CHECK(f.store->set_subscribed_sync(a, "Nothing", true).error().code == Errc::kNotFound);
}

}  // namespace
}  // namespace chapar::store
