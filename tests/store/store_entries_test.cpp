// SPDX-License-Identifier: AGPL-3.0-or-later
#include <doctest/doctest.h>

#include <string>

#include "tests/store/store_fixture.hpp"

namespace chapar::store {
namespace {

using test::make_message;
using test::sample_body;
using test::StoreFixture;

std::vector<Uid> uids_of(const std::vector<Entry>& entries) {
  std::vector<Uid> out;
  for (const auto& entry : entries) out.push_back(entry.uid);
  return out;
}

TEST_CASE("store: append with flags, keywords and dates") {
  StoreFixture f;
  AccountId a = f.add_account("a@example.org");
  MailboxId drafts = f.mailbox_id(a, "Drafts");
  std::vector<AppendRequest> requests(2);
  requests[0].mailbox = drafts;
  requests[0].message = make_message(sample_body("one"));
  requests[0].flags = kDraft | kSeen | (1u << 20);  // unknown bits are dropped
  requests[0].keywords = {"$Label1", "work", "WORK"};
  requests[0].internal_date = 1700000000;
  requests[1].mailbox = drafts;
  requests[1].message = make_message(sample_body("two"));
  test::Waiter<AppendResult> waiter;
  f.store->append(std::move(requests), waiter.completion());
  auto result = waiter.get();
  REQUIRE(result);
  CHECK(result->uidvalidity == f.store->mailbox(drafts)->uidvalidity);
  CHECK(result->uids == std::vector<Uid>{1, 2});

  auto entries = f.store->entries(drafts);
  REQUIRE(entries->size() == 2);
  CHECK((*entries)[0].flags == (kDraft | kSeen));
  CHECK((*entries)[0].keywords == std::vector<std::string>{"$Label1", "work"});
  CHECK((*entries)[0].internal_date == 1700000000);
  CHECK((*entries)[0].save_date > 0);
  CHECK((*entries)[1].internal_date > 0);
  CHECK((*entries)[0].modseq == (*entries)[1].modseq);
  CHECK(f.store->entries_in(drafts, 2, 10)->size() == 1);
  CHECK(f.store->entries(drafts + 1000).error().code == Errc::kNotFound);

  auto counts = f.store->counts(drafts);
  REQUIRE(counts);
  CHECK(counts->messages == 2);
  CHECK(counts->unseen == 1);
  CHECK(counts->deleted == 0);
  CHECK(counts->size == (*entries)[0].size + (*entries)[1].size);

  // Mixed mailboxes in one append are refused, and nothing is stored.
  std::vector<AppendRequest> mixed(2);
  mixed[0].mailbox = drafts;
  mixed[0].message = make_message("x");
  mixed[1].mailbox = f.mailbox_id(a, "Sent");
  mixed[1].message = make_message("y");
  CHECK(f.store->append_sync(std::move(mixed)).error().code == Errc::kInvalidArgument);
  std::vector<AppendRequest> nowhere(1);
  nowhere[0].mailbox = 9999;
  nowhere[0].message = make_message("x");
  CHECK(f.store->append_sync(std::move(nowhere)).error().code == Errc::kNotFound);
  CHECK(f.store->stats()->messages == 2);
}

TEST_CASE("store: flags, keywords and UNCHANGEDSINCE") {
  StoreFixture f;
  AccountId a = f.add_account("a@example.org");
  MailboxId inbox = f.mailbox_id(a, "INBOX");
  f.append(inbox, {sample_body("1"), sample_body("2"), sample_body("3")});
  ModSeq start = f.store->mailbox(inbox)->highest_modseq;

  FlagChange add;
  add.mailbox = inbox;
  add.uids = {1, 2, 99};
  add.op = FlagOp::kAdd;
  add.flags = kSeen | kFlagged;
  add.keywords = {"$Important"};
  test::Waiter<FlagChangeResult> waiter;
  f.store->change_flags(add, waiter.completion());
  auto added = waiter.get();
  REQUIRE(added);
  REQUIRE(uids_of(added->updated) == std::vector<Uid>{1, 2});
  CHECK(added->modified.empty());
  ModSeq after_add = f.store->mailbox(inbox)->highest_modseq;
  CHECK(after_add == start + 1);
  for (const auto& entry : added->updated) {
    CHECK(entry.modseq == after_add);
    CHECK(entry.flags == (kSeen | kFlagged));
    CHECK(entry.keywords == std::vector<std::string>{"$Important"});
  }

  // Asking again changes nothing: no new MODSEQ.
  auto again = f.store->change_flags_sync(add);
  REQUIRE(again);
  CHECK(again->updated.empty());
  CHECK(f.store->mailbox(inbox)->highest_modseq == after_add);

  // RFC 7162 §3.1.3: UNCHANGEDSINCE below an entry's MODSEQ leaves it alone.
  FlagChange remove;
  remove.mailbox = inbox;
  remove.uids = {1, 2, 3};
  remove.op = FlagOp::kRemove;
  remove.flags = kFlagged;
  remove.keywords = {"$important"};
  remove.unchanged_since = start;
  auto conditional = f.store->change_flags_sync(remove);
  REQUIRE(conditional);
  CHECK(conditional->modified == std::vector<Uid>{1, 2});
  CHECK(conditional->updated.empty());  // 3 has nothing to remove
  remove.unchanged_since = after_add;
  conditional = f.store->change_flags_sync(remove);
  REQUIRE(conditional);
  CHECK(conditional->modified.empty());
  CHECK(uids_of(conditional->updated) == std::vector<Uid>{1, 2});
  auto entries = f.store->entries(inbox);
  CHECK((*entries)[0].flags == kSeen);
  CHECK((*entries)[0].keywords.empty());

  FlagChange set;
  set.mailbox = inbox;
  set.uids = {3};
  set.op = FlagOp::kSet;
  set.flags = kAnswered | kDeleted;
  set.keywords = {"a", "b"};
  auto replaced = f.store->change_flags_sync(set);
  REQUIRE(replaced);
  REQUIRE(replaced->updated.size() == 1);
  CHECK(replaced->updated[0].flags == (kAnswered | kDeleted));
  CHECK(replaced->updated[0].keywords == std::vector<std::string>{"a", "b"});
  CHECK(f.store->counts(inbox)->deleted == 1);
  CHECK(f.store->counts(inbox)->unseen == 1);

  set.mailbox = 12345;
  CHECK(f.store->change_flags_sync(set).error().code == Errc::kNotFound);
}

TEST_CASE("store: expunge and changes since a MODSEQ") {
  StoreFixture f;
  AccountId a = f.add_account("a@example.org");
  MailboxId inbox = f.mailbox_id(a, "INBOX");
  f.append(inbox, {sample_body("1"), sample_body("2"), sample_body("3"), sample_body("4")});
  ModSeq base = f.store->mailbox(inbox)->highest_modseq;

  FlagChange del;
  del.mailbox = inbox;
  del.uids = {2, 4};
  del.flags = kDeleted;
  REQUIRE(f.store->change_flags_sync(del));
  ModSeq flagged = f.store->mailbox(inbox)->highest_modseq;

  auto changes = f.store->changes_since(inbox, base);
  REQUIRE(changes);
  CHECK(changes->highest_modseq == flagged);
  CHECK(uids_of(changes->changed) == std::vector<Uid>{2, 4});
  CHECK(changes->expunged.empty());

  // UID EXPUNGE: only \Deleted entries among those given (RFC 4315 §2.1).
  test::Waiter<std::vector<Uid>> uid_expunge;
  f.store->expunge_deleted(inbox, {1, 2}, uid_expunge.completion());
  auto removed = uid_expunge.get();
  REQUIRE(removed);
  CHECK(*removed == std::vector<Uid>{2});

  // EXPUNGE: every \Deleted entry.
  test::Waiter<std::vector<Uid>> expunge;
  f.store->expunge(inbox, {}, expunge.completion());
  removed = expunge.get();
  REQUIRE(removed);
  CHECK(*removed == std::vector<Uid>{4});
  CHECK(uids_of(*f.store->entries(inbox)) == std::vector<Uid>{1, 3});

  changes = f.store->changes_since(inbox, flagged);
  REQUIRE(changes);
  CHECK(changes->changed.empty());
  CHECK(changes->expunged == std::vector<Uid>{2, 4});
  CHECK(changes->highest_modseq == f.store->mailbox(inbox)->highest_modseq);
  changes = f.store->changes_since(inbox, 0);
  CHECK(uids_of(changes->changed) == std::vector<Uid>{1, 3});
  CHECK(changes->expunged == std::vector<Uid>{2, 4});
  changes = f.store->changes_since(inbox, changes->highest_modseq);
  CHECK(changes->changed.empty());
  CHECK(changes->expunged.empty());

  // Nothing to do: no new MODSEQ. Given UIDs go whatever their flags (POP3).
  ModSeq before = f.store->mailbox(inbox)->highest_modseq;
  CHECK(f.store->expunge_sync(inbox, {})->empty());
  CHECK(f.store->expunge_sync(inbox, {2, 77})->empty());
  CHECK(f.store->mailbox(inbox)->highest_modseq == before);
  CHECK(*f.store->expunge_sync(inbox, {3, 1}) == std::vector<Uid>{1, 3});
  CHECK(f.store->entries(inbox)->empty());
  CHECK(f.store->stats()->messages == 0);
  CHECK(f.store->changes_since(inbox, before)->expunged == std::vector<Uid>{1, 3});
}

TEST_CASE("store: copy and move") {
  StoreFixture f;
  AccountId a = f.add_account("a@example.org");
  MailboxId inbox = f.mailbox_id(a, "INBOX");
  MailboxId archive = f.mailbox_id(a, "Archive");
  f.append(inbox, {sample_body("1"), sample_body("2"), sample_body("3")}, kSeen);
  f.append(archive, {sample_body("old")});

  FlagChange keyword;
  keyword.mailbox = inbox;
  keyword.uids = {3};
  keyword.keywords = {"$Forwarded"};
  REQUIRE(f.store->change_flags_sync(keyword));

  test::Waiter<CopyResult> copied;
  f.store->copy(inbox, {3, 1, 50}, archive, copied.completion());
  auto copy = copied.get();
  REQUIRE(copy);
  CHECK(copy->uidvalidity == f.store->mailbox(archive)->uidvalidity);
  CHECK(copy->source_uids == std::vector<Uid>{1, 3});
  CHECK(copy->dest_uids == std::vector<Uid>{2, 3});
  auto archived = f.store->entries(archive);
  REQUIRE(archived->size() == 3);
  CHECK((*archived)[2].keywords == std::vector<std::string>{"$Forwarded"});
  CHECK((*archived)[1].flags == kSeen);
  auto inbox_entries = f.store->entries(inbox);
  CHECK((*archived)[1].message == (*inbox_entries)[0].message);  // shared, not copied
  CHECK((*archived)[1].internal_date == (*inbox_entries)[0].internal_date);
  CHECK(f.store->stats()->messages == 4);
  uint64_t used = f.store->account(a)->used_bytes;

  test::Waiter<CopyResult> moved;
  f.store->move(inbox, {2, 3}, archive, moved.completion());
  auto move = moved.get();
  REQUIRE(move);
  CHECK(move->source_uids == std::vector<Uid>{2, 3});
  CHECK(move->dest_uids == std::vector<Uid>{4, 5});
  CHECK(uids_of(*f.store->entries(inbox)) == std::vector<Uid>{1});
  CHECK(f.store->entries(archive)->size() == 5);
  CHECK(f.store->account(a)->used_bytes == used);
  CHECK(f.store->changes_since(inbox, 0)->expunged == std::vector<Uid>{2, 3});

  CHECK(f.store->move_sync(archive, {1}, archive).error().code == Errc::kInvalidArgument);
  CHECK(f.store->copy_sync(inbox, {1}, 999).error().code == Errc::kNotFound);
  auto nothing = f.store->copy_sync(inbox, {42}, archive);
  REQUIRE(nothing);
  CHECK(nothing->dest_uids.empty());
}

}  // namespace
}  // namespace chapar::store
