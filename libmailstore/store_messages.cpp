// SPDX-License-Identifier: AGPL-3.0-or-later
// Message content: delivery, APPEND, and reading back what was stored.
#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "libmailstore/records.hpp"
#include "libmailstore/store.hpp"
#include "libmailstore/writer.hpp"

namespace chapar::store {

namespace {

constexpr uint32_t kSystemFlags = kSeen | kAnswered | kFlagged | kDeleted | kDraft;

Result<QueueId> enqueue(WriteContext& ctx, MessageId message, const Delivery& delivery) {
  {
    auto q = ctx.db().query(
        "INSERT INTO queue(message_id, sender, dsn_ret, dsn_envid, requiretls, created, "
        "next_attempt) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)");
    if (!q) return Unexpected{q.error()};
    auto s = q->bind(message, delivery.sender, delivery.dsn.ret, delivery.dsn.envid,
                     delivery.dsn.requiretls, ctx.now())
                 .run();
    if (!s) return Unexpected{s.error()};
  }
  QueueId id = ctx.db().last_insert_id();
  int64_t position = 0;
  for (const auto& recipient : delivery.remote) {
    auto q = ctx.db().query(
        "INSERT INTO queue_recipients(queue_id, position, address, notify, orcpt) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!q) return Unexpected{q.error()};
    auto s = q->bind(id, position++, recipient.address, recipient.notify, recipient.orcpt).run();
    if (!s) return Unexpected{s.error()};
  }
  return id;
}

Result<Mailbox> inbox_of(Database& db, AccountId account) {
  auto inbox = records::find_mailbox(db, account, "INBOX");
  if (!inbox) return Unexpected{inbox.error()};
  if (!*inbox) return fail(Errc::kNotFound, fmt::format("account {} has no INBOX", account));
  return std::move(**inbox);
}

Status check_content(const PreparedMessage& message) {
  if (!message.content || !message.content->finished()) {
    return fail(Errc::kInvalidArgument, "message content missing or not finished");
  }
  return {};
}

Result<DeliveryReceipt> deliver_op(WriteContext& ctx, const Delivery& delivery) {
  if (auto s = check_content(delivery.message); !s) return Unexpected{s.error()};
  if (delivery.local.empty() && delivery.remote.empty()) {
    return fail(Errc::kInvalidArgument, "a delivery without recipients");
  }
  std::vector<AccountId> accounts = delivery.local;
  std::sort(accounts.begin(), accounts.end());
  accounts.erase(std::unique(accounts.begin(), accounts.end()), accounts.end());

  uint64_t size = delivery.message.content->size();
  for (AccountId account : accounts) {
    auto s = records::charge_quota(ctx.db(), account, static_cast<int64_t>(size), true);
    if (!s) return Unexpected{s.error()};
  }
  auto message = records::insert_message(ctx, delivery.message);
  if (!message) return Unexpected{message.error()};

  records::NewEntry entry;
  entry.message = *message;
  entry.size = size;
  entry.internal_date = delivery.internal_date != 0 ? delivery.internal_date : ctx.now();
  for (AccountId account : accounts) {
    auto inbox = inbox_of(ctx.db(), account);
    if (!inbox) return Unexpected{inbox.error()};
    inbox->highest_modseq++;
    auto uid = records::insert_entry(ctx, *inbox, entry);
    if (!uid) return Unexpected{uid.error()};
    if (auto s = records::save_counters(ctx, *inbox); !s) return Unexpected{s.error()};
  }

  DeliveryReceipt receipt;
  receipt.message = *message;
  if (!delivery.remote.empty()) {
    auto queued = enqueue(ctx, *message, delivery);
    if (!queued) return Unexpected{queued.error()};
    receipt.queued = *queued;
    ctx.changed(kQueueChanges, static_cast<ModSeq>(*queued));
  }
  return receipt;
}

Result<AppendResult> append_op(WriteContext& ctx, const std::vector<AppendRequest>& requests) {
  if (requests.empty()) return fail(Errc::kInvalidArgument, "nothing to append");
  for (const auto& request : requests) {
    if (request.mailbox != requests.front().mailbox) {
      return fail(Errc::kInvalidArgument, "an append names more than one mailbox");
    }
    if (auto s = check_content(request.message); !s) return Unexpected{s.error()};
  }
  auto mailbox = records::load_mailbox(ctx.db(), requests.front().mailbox);
  if (!mailbox) return Unexpected{mailbox.error()};
  uint64_t total = 0;
  for (const auto& request : requests) total += request.message.content->size();
  auto s = records::charge_quota(ctx.db(), mailbox->account, static_cast<int64_t>(total), true);
  if (!s) return Unexpected{s.error()};

  mailbox->highest_modseq++;
  AppendResult result;
  result.uidvalidity = mailbox->uidvalidity;
  for (const auto& request : requests) {
    auto message = records::insert_message(ctx, request.message);
    if (!message) return Unexpected{message.error()};
    records::NewEntry entry;
    entry.message = *message;
    entry.size = request.message.content->size();
    entry.flags = request.flags & kSystemFlags;
    entry.keywords = records::join_keywords(request.keywords);
    entry.internal_date = request.internal_date != 0 ? request.internal_date : ctx.now();
    auto uid = records::insert_entry(ctx, *mailbox, entry);
    if (!uid) return Unexpected{uid.error()};
    result.uids.push_back(*uid);
  }
  if (auto saved = records::save_counters(ctx, *mailbox); !saved) {
    return Unexpected{saved.error()};
  }
  return result;
}

}  // namespace

// --- Delivery ---

void Store::deliver(Delivery delivery, Completion<DeliveryReceipt> done) {
  submit_op<DeliveryReceipt>(
      *writer_,
      [delivery = std::move(delivery)](WriteContext& ctx) { return deliver_op(ctx, delivery); },
      std::move(done));
}

Result<DeliveryReceipt> Store::deliver_sync(Delivery delivery) {
  return run_op<DeliveryReceipt>(*writer_, [delivery = std::move(delivery)](WriteContext& ctx) {
    return deliver_op(ctx, delivery);
  });
}

// --- APPEND ---

void Store::append(std::vector<AppendRequest> requests, Completion<AppendResult> done) {
  submit_op<AppendResult>(
      *writer_,
      [requests = std::move(requests)](WriteContext& ctx) { return append_op(ctx, requests); },
      std::move(done));
}

Result<AppendResult> Store::append_sync(std::vector<AppendRequest> requests) {
  return run_op<AppendResult>(*writer_, [requests = std::move(requests)](WriteContext& ctx) {
    return append_op(ctx, requests);
  });
}

// --- Reading content ---

Result<std::string> Store::structure(MessageId message) {
  auto q = db_->query("SELECT structure FROM messages WHERE id = ?1");
  if (!q) return Unexpected{q.error()};
  q->bind(message);
  auto row = q->next();
  if (!row) return Unexpected{row.error()};
  if (!*row) return fail(Errc::kNotFound, fmt::format("no message {}", message));
  return q->blob(0);
}

Result<uint64_t> Store::message_size(MessageId message) {
  auto q = db_->query("SELECT size FROM messages WHERE id = ?1");
  if (!q) return Unexpected{q.error()};
  q->bind(message);
  auto row = q->next();
  if (!row) return Unexpected{row.error()};
  if (!*row) return fail(Errc::kNotFound, fmt::format("no message {}", message));
  return static_cast<uint64_t>(q->integer(0));
}

Result<std::string> Store::read(MessageId message, uint64_t offset, uint64_t length) {
  auto size = message_size(message);
  if (!size) return Unexpected{size.error()};
  if (offset >= *size || length == 0) return std::string();
  return db_->read_blob("message_content", "content", message, offset, length);
}

}  // namespace chapar::store
