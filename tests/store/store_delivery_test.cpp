// SPDX-License-Identifier: AGPL-3.0-or-later
#include <doctest/doctest.h>

#include <string>

#include "tests/store/store_fixture.hpp"

namespace chapar::store {
namespace {

using test::make_message;
using test::sample_body;
using test::StoreFixture;

TEST_CASE("store: a delivery to three recipients stores the body once") {
  StoreFixture f;
  AccountId a = f.add_account("a@example.org");
  AccountId b = f.add_account("b@example.org");
  AccountId c = f.add_account("c@example.org");
  std::string body = sample_body("three", 100);
  auto receipt = f.deliver({a, b, c, b}, body);  // b twice: one entry only
  REQUIRE(receipt);
  CHECK_FALSE(receipt->queued);

  auto stats = f.store->stats();
  REQUIRE(stats);
  CHECK(stats->messages == 1);
  CHECK(stats->bytes == body.size());
  for (AccountId account : {a, b, c}) {
    auto entries = f.store->entries(f.mailbox_id(account, "INBOX"));
    REQUIRE(entries);
    REQUIRE(entries->size() == 1);
    CHECK((*entries)[0].message == receipt->message);
    CHECK((*entries)[0].uid == 1);
    CHECK((*entries)[0].size == body.size());
    CHECK((*entries)[0].flags == 0);
    CHECK((*entries)[0].internal_date > 0);
    CHECK(f.store->account(account)->used_bytes == body.size());
  }
  auto read = f.store->read(receipt->message, 0, body.size() + 10);
  REQUIRE(read);
  CHECK(*read == body);
  CHECK(*f.store->message_size(receipt->message) == body.size());

  // The body goes when the last entry that holds it goes.
  for (AccountId account : {a, b}) {
    REQUIRE(f.store->expunge_sync(f.mailbox_id(account, "INBOX"), {1}));
    CHECK(f.store->stats()->messages == 1);
  }
  REQUIRE(f.store->expunge_sync(f.mailbox_id(c, "INBOX"), {1}));
  CHECK(f.store->stats()->messages == 0);
  CHECK(f.store->read(receipt->message, 0, 10).error().code == Errc::kNotFound);
  CHECK(f.store->account(a)->used_bytes == 0);
}

TEST_CASE("store: quota") {
  StoreFixture f;
  AccountId small = f.add_account("small@example.org", 1000);
  AccountId big = f.add_account("big@example.org");
  std::string body(600, 'x');

  CHECK(*f.store->has_room(small, 1000));
  CHECK_FALSE(*f.store->has_room(small, 1001));
  REQUIRE(f.deliver({small, big}, body));
  CHECK_FALSE(*f.store->has_room(small, 600));
  CHECK(*f.store->has_room(big, 1u << 30));

  // Over quota: the whole delivery fails, naming the account, and nothing is stored.
  auto refused = f.deliver({big, small}, body);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::kQuotaExceeded);
  CHECK(refused.error().message.find("small@example.org") != std::string::npos);
  CHECK(f.store->stats()->messages == 1);
  CHECK(f.store->entries(f.mailbox_id(big, "INBOX"))->size() == 1);
  CHECK(f.store->account(small)->used_bytes == 600);

  // APPEND and COPY are held to the quota too.
  std::vector<AppendRequest> requests(1);
  requests[0].mailbox = f.mailbox_id(small, "Drafts");
  requests[0].message = make_message(body);
  auto append = f.store->append_sync(std::move(requests));
  REQUIRE_FALSE(append);
  CHECK(append.error().code == Errc::kQuotaExceeded);
  auto copy = f.store->copy_sync(f.mailbox_id(small, "INBOX"), {1}, f.mailbox_id(small, "Sent"));
  REQUIRE_FALSE(copy);
  CHECK(copy.error().code == Errc::kQuotaExceeded);
  // A move within the account does not grow it.
  REQUIRE(f.store->move_sync(f.mailbox_id(small, "INBOX"), {1}, f.mailbox_id(small, "Sent")));
  CHECK(f.store->account(small)->used_bytes == 600);

  // Expunging gives the room back.
  REQUIRE(f.store->expunge_sync(f.mailbox_id(small, "Sent"), {1}));
  CHECK(f.store->account(small)->used_bytes == 0);
  REQUIRE(f.deliver({small}, body));
}

TEST_CASE("store: byte ranges of a 5 MB body") {
  StoreFixture f;
  AccountId a = f.add_account("a@example.org");
  std::string body;
  body.reserve(5 * 1024 * 1024 + 100);
  for (size_t i = 0; body.size() < 5 * 1024 * 1024; ++i) {
    body += "line " + std::to_string(i) + " of a large message\r\n";
  }
  // Through a Spool on disk, as SMTP DATA would build it.
  auto spool = std::make_shared<Spool>(f.store->temp_dir(), 64 * 1024);
  for (size_t at = 0; at < body.size(); at += 10000) {
    REQUIRE(spool->append(std::string_view(body).substr(at, 10000)));
  }
  REQUIRE(spool->finish());
  CHECK(spool->on_disk());
  CHECK(spool->view() == body);
  Delivery delivery;
  delivery.message.content = spool;
  delivery.message.size = spool->size();
  delivery.local = {a};
  auto receipt = f.store->deliver_sync(std::move(delivery));
  REQUIRE(receipt);

  struct Range {
    uint64_t offset, length;
  };
  for (Range range : {Range{0, 100}, Range{4'000'000, 65536}, Range{body.size() - 10, 100},
                      Range{1, 1}, Range{123456, 1'000'000}}) {
    auto read = f.store->read(receipt->message, range.offset, range.length);
    REQUIRE(read);
    CHECK(*read == body.substr(range.offset, range.length));
  }
  CHECK(f.store->read(receipt->message, body.size(), 10)->empty());
  CHECK(f.store->read(receipt->message, body.size() + 5, 10)->empty());
  CHECK(*f.store->read(receipt->message, 0, body.size()) == body);
}

TEST_CASE("store: remote recipients are queued in the same transaction") {
  StoreFixture f;
  AccountId a = f.add_account("a@example.org");
  Delivery delivery;
  delivery.message = make_message(sample_body("queued"));
  delivery.sender = "a@example.org";
  delivery.local = {a};
  delivery.remote = {{"x@example.net", "SUCCESS,FAILURE", "rfc822;x@example.net"},
                     {"y@example.com", "", ""}};
  delivery.dsn = DsnEnvelope{"HDRS", "env-1", true};
  auto receipt = f.store->deliver_sync(std::move(delivery));
  REQUIRE(receipt);
  REQUIRE(receipt->queued);

  auto entry = f.store->queue_entry(*receipt->queued);
  REQUIRE(entry);
  CHECK(entry->message == receipt->message);
  CHECK(entry->sender == "a@example.org");
  CHECK(entry->dsn.ret == "HDRS");
  CHECK(entry->dsn.envid == "env-1");
  CHECK(entry->dsn.requiretls);
  CHECK(entry->attempts == 0);
  CHECK(entry->created > 0);
  CHECK(entry->next_attempt == entry->created);
  REQUIRE(entry->recipients.size() == 2);
  CHECK(entry->recipients[0].recipient.address == "x@example.net");
  CHECK(entry->recipients[0].recipient.notify == "SUCCESS,FAILURE");
  CHECK(entry->recipients[0].recipient.orcpt == "rfc822;x@example.net");
  CHECK(entry->recipients[1].state == RecipientState::kPending);
  CHECK(f.store->queue_entries()->size() == 1);
  CHECK(f.store->due_queue_entries(entry->created, 10)->size() == 1);
  CHECK(f.store->due_queue_entries(entry->created - 1, 10)->empty());

  // After an attempt: one delivered, one deferred.
  entry->attempts = 1;
  entry->next_attempt = entry->created + 300;
  entry->recipients[0].state = RecipientState::kDelivered;
  entry->recipients[1].last_error = "451 4.7.1 try later";
  entry->recipients[1].delay_warned = true;
  test::Waiter<void> updated;
  f.store->update_queue_entry(*entry, updated.completion());
  REQUIRE(updated.get());
  auto after = f.store->queue_entry(entry->id);
  REQUIRE(after);
  CHECK(after->attempts == 1);
  CHECK(after->recipients[0].state == RecipientState::kDelivered);
  CHECK(after->recipients[1].last_error == "451 4.7.1 try later");
  CHECK(after->recipients[1].delay_warned);
  CHECK(f.store->due_queue_entries(entry->created + 299, 10)->empty());
  CHECK(f.store->due_queue_entries(entry->created + 300, 10)->size() == 1);

  REQUIRE(f.store->retry_queue_entry_sync(entry->id));
  CHECK(f.store->queue_entry(entry->id)->next_attempt <= entry->created + 300);
  CHECK(f.store->retry_queue_entry_sync(entry->id + 100).error().code == Errc::kNotFound);
  REQUIRE(f.store->retry_queue_entry_sync(std::nullopt));

  // The body stays while the queue or a mailbox holds it.
  REQUIRE(f.store->expunge_sync(f.mailbox_id(a, "INBOX"), {1}));
  CHECK(f.store->stats()->messages == 1);
  CHECK(f.store->stats()->queued == 1);
  REQUIRE(f.store->remove_queue_entry_sync(entry->id));
  CHECK(f.store->stats()->messages == 0);
  CHECK(f.store->stats()->queued == 0);
  CHECK(f.store->remove_queue_entry_sync(entry->id).error().code == Errc::kNotFound);

  // Remote recipients only.
  Delivery remote_only;
  remote_only.message = make_message(sample_body("relay"));
  remote_only.remote = {{"z@example.net", "", ""}};
  auto relayed = f.store->deliver_sync(std::move(remote_only));
  REQUIRE(relayed);
  REQUIRE(relayed->queued);
  test::Waiter<void> removed;
  f.store->remove_queue_entry(*relayed->queued, removed.completion());
  REQUIRE(removed.get());
  CHECK(f.store->stats()->messages == 0);

  Delivery nobody;
  nobody.message = make_message("x");
  CHECK(f.store->deliver_sync(std::move(nobody)).error().code == Errc::kInvalidArgument);
}

TEST_CASE("store: UIDs and MODSEQs only grow") {
  StoreFixture f;
  AccountId a = f.add_account("a@example.org");
  MailboxId inbox = f.mailbox_id(a, "INBOX");
  MailboxId archive = f.mailbox_id(a, "Archive");
  Uid last_uid = 0;
  ModSeq last_modseq = f.store->mailbox(inbox)->highest_modseq;
  auto check_grew = [&]() {
    auto mailbox = f.store->mailbox(inbox);
    REQUIRE(mailbox);
    CHECK(mailbox->highest_modseq > last_modseq);
    last_modseq = mailbox->highest_modseq;
    auto entries = f.store->entries(inbox);
    for (const auto& entry : *entries) CHECK(entry.modseq <= mailbox->highest_modseq);
    if (!entries->empty()) {
      CHECK(entries->back().uid < mailbox->uidnext);
    }
  };
  for (int round = 0; round < 5; ++round) {
    auto receipt = f.deliver({a}, sample_body("round " + std::to_string(round)));
    REQUIRE(receipt);
    auto entries = f.store->entries(inbox);
    REQUIRE(!entries->empty());
    CHECK(entries->back().uid > last_uid);
    last_uid = entries->back().uid;
    check_grew();

    auto uids = f.append(inbox, {sample_body("appended"), sample_body("appended 2")});
    REQUIRE(uids.size() == 2);
    CHECK(uids[0] > last_uid);
    CHECK(uids[1] > uids[0]);
    last_uid = uids[1];
    check_grew();

    FlagChange change;
    change.mailbox = inbox;
    change.uids = {uids[0]};
    change.flags = kSeen;
    REQUIRE(f.store->change_flags_sync(change));
    check_grew();

    REQUIRE(f.store->expunge_sync(inbox, {uids[1]}));
    check_grew();

    REQUIRE(f.store->move_sync(inbox, {uids[0]}, archive));
    check_grew();
    CHECK(f.store->mailbox(inbox)->uidnext == last_uid + 1);  // never reused
  }
}

}  // namespace
}  // namespace chapar::store
