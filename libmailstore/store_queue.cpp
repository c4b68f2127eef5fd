// SPDX-License-Identifier: AGPL-3.0-or-later
// The outbound queue: messages waiting for remote recipients, with per-recipient state.
#include <fmt/format.h>

#include <utility>

#include "libmailstore/records.hpp"
#include "libmailstore/store.hpp"
#include "libmailstore/writer.hpp"

namespace chapar::store {

namespace {

Result<QueueEntry> load_queue_entry(Database& db, QueueId id) {
  QueueEntry entry;
  {
    auto q = db.query(
        "SELECT id, message_id, sender, dsn_ret, dsn_envid, requiretls, created, "
        "next_attempt, attempts FROM queue WHERE id = ?1");
    if (!q) return Unexpected{q.error()};
    q->bind(id);
    auto row = q->next();
    if (!row) return Unexpected{row.error()};
    if (!*row) return fail(Errc::kNotFound, fmt::format("no queue entry {}", id));
    entry.id = q->integer(0);
    entry.message = q->integer(1);
    entry.sender = q->text(2);
    entry.dsn.ret = q->text(3);
    entry.dsn.envid = q->text(4);
    entry.dsn.requiretls = q->integer(5) != 0;
    entry.created = q->integer(6);
    entry.next_attempt = q->integer(7);
    entry.attempts = static_cast<uint32_t>(q->integer(8));
  }
  auto q = db.query(
      "SELECT address, notify, orcpt, state, last_error, delay_warned FROM queue_recipients "
      "WHERE queue_id = ?1 ORDER BY position");
  if (!q) return Unexpected{q.error()};
  q->bind(id);
  for (;;) {
    auto row = q->next();
    if (!row) return Unexpected{row.error()};
    if (!*row) break;
    QueueRecipientStatus status;
    status.recipient.address = q->text(0);
    status.recipient.notify = q->text(1);
    status.recipient.orcpt = q->text(2);
    status.state = static_cast<RecipientState>(q->integer(3));
    status.last_error = q->text(4);
    status.delay_warned = q->integer(5) != 0;
    entry.recipients.push_back(std::move(status));
  }
  return entry;
}

// Loads the entries whose ids `ids_sql` selects (bound to ?1 and ?2), in one snapshot.
Result<std::vector<QueueEntry>> load_queue_entries(Database& db, const char* ids_sql, int64_t a,
                                                   int64_t b) {
  auto txn = Transaction::begin(db, Transaction::Mode::kDeferred);
  if (!txn) return Unexpected{txn.error()};
  std::vector<QueueId> ids;
  {
    auto q = db.query(ids_sql);
    if (!q) return Unexpected{q.error()};
    q->bind(a, b);
    for (;;) {
      auto row = q->next();
      if (!row) return Unexpected{row.error()};
      if (!*row) break;
      ids.push_back(q->integer(0));
    }
  }
  std::vector<QueueEntry> out;
  for (QueueId id : ids) {
    auto entry = load_queue_entry(db, id);
    if (!entry) return Unexpected{entry.error()};
    out.push_back(std::move(*entry));
  }
  if (auto s = txn->commit(); !s) return Unexpected{s.error()};
  return out;
}

Status update_op(WriteContext& ctx, const QueueEntry& entry) {
  {
    auto q = ctx.db().query("UPDATE queue SET next_attempt = ?2, attempts = ?3 WHERE id = ?1");
    if (!q) return Unexpected{q.error()};
    if (auto s = q->bind(entry.id, entry.next_attempt, entry.attempts).run(); !s) return s;
    if (ctx.db().changes() == 0) {
      return fail(Errc::kNotFound, fmt::format("no queue entry {}", entry.id));
    }
  }
  int64_t position = 0;
  for (const auto& recipient : entry.recipients) {
    auto q = ctx.db().query(
        "UPDATE queue_recipients SET state = ?3, last_error = ?4, delay_warned = ?5 "
        "WHERE queue_id = ?1 AND position = ?2");
    if (!q) return Unexpected{q.error()};
    auto s = q->bind(entry.id, position++, static_cast<int64_t>(recipient.state),
                     recipient.last_error, recipient.delay_warned)
                 .run();
    if (!s) return s;
  }
  return {};
}

Status remove_op(WriteContext& ctx, QueueId id) {
  MessageId message = 0;
  {
    auto q = ctx.db().query("SELECT message_id FROM queue WHERE id = ?1");
    if (!q) return Unexpected{q.error()};
    auto row = q->bind(id).next();
    if (!row) return Unexpected{row.error()};
    if (!*row) return fail(Errc::kNotFound, fmt::format("no queue entry {}", id));
    message = q->integer(0);
  }
  auto q = ctx.db().query("DELETE FROM queue WHERE id = ?1");
  if (!q) return Unexpected{q.error()};
  if (auto s = q->bind(id).run(); !s) return s;
  return records::collect_message(ctx.db(), message);
}

}  // namespace

Result<std::vector<QueueEntry>> Store::queue_entries() {
  return load_queue_entries(*db_, "SELECT id FROM queue WHERE ?1 = ?2 ORDER BY id", 0, 0);
}

Result<QueueEntry> Store::queue_entry(QueueId id) {
  auto txn = Transaction::begin(*db_, Transaction::Mode::kDeferred);
  if (!txn) return Unexpected{txn.error()};
  auto entry = load_queue_entry(*db_, id);
  if (!entry) return entry;
  if (auto s = txn->commit(); !s) return Unexpected{s.error()};
  return entry;
}

Result<std::vector<QueueEntry>> Store::due_queue_entries(UnixTime now, size_t limit) {
  return load_queue_entries(*db_,
                            "SELECT id FROM queue WHERE next_attempt <= ?1 AND EXISTS "
                            "(SELECT 1 FROM queue_recipients r WHERE r.queue_id = queue.id "
                            "AND r.state = 0) ORDER BY next_attempt, id LIMIT ?2",
                            now, static_cast<int64_t>(limit));
}

void Store::update_queue_entry(QueueEntry entry, Completion<void> done) {
  submit_op<void>(
      *writer_, [entry = std::move(entry)](WriteContext& ctx) { return update_op(ctx, entry); },
      std::move(done));
}

void Store::remove_queue_entry(QueueId id, Completion<void> done) {
  submit_op<void>(
      *writer_, [id](WriteContext& ctx) { return remove_op(ctx, id); }, std::move(done));
}

Status Store::remove_queue_entry_sync(QueueId id) {
  return run_op<void>(*writer_, [id](WriteContext& ctx) { return remove_op(ctx, id); });
}

Status Store::retry_queue_entry_sync(std::optional<QueueId> id) {
  return run_op<void>(*writer_, [id](WriteContext& ctx) -> Status {
    auto q = ctx.db().query(
        "UPDATE queue SET next_attempt = ?2 WHERE (?1 IS NULL OR id = ?1) AND next_attempt > ?2");
    if (!q) return Unexpected{q.error()};
    if (id) {
      q->bind(*id, ctx.now());
    } else {
      q->bind(nullptr, ctx.now());
    }
    if (auto s = q->run(); !s) return s;
    if (id) {
      auto check = ctx.db().query("SELECT 1 FROM queue WHERE id = ?1");
      if (!check) return Unexpected{check.error()};
      auto row = check->bind(*id).next();
      if (!row) return Unexpected{row.error()};
      if (!*row) return fail(Errc::kNotFound, fmt::format("no queue entry {}", *id));
    }
    ctx.changed(kQueueChanges, static_cast<ModSeq>(ctx.now()));
    return {};
  });
}

}  // namespace chapar::store
