// SPDX-License-Identifier: AGPL-3.0-or-later
// Mailbox entries: the UID view, flags and keywords, EXPUNGE, COPY and MOVE, and the
// changes since a MODSEQ (RFC 7162).
#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "libmailstore/records.hpp"
#include "libmailstore/store.hpp"
#include "libmailstore/writer.hpp"

namespace chapar::store {

namespace {

constexpr uint32_t kSystemFlags = kSeen | kAnswered | kFlagged | kDeleted | kDraft;
constexpr Uid kLastUid = std::numeric_limits<Uid>::max();

std::vector<Uid> sorted_unique(std::vector<Uid> uids) {
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  return uids;
}

// The entries of the mailbox among `uids` (sorted, unique).
Result<std::vector<Entry>> entries_among(Database& db, MailboxId mailbox,
                                         const std::vector<Uid>& uids) {
  if (uids.empty()) return std::vector<Entry>();
  auto all = records::load_entries(db, mailbox, uids.front(), uids.back());
  if (!all) return all;
  std::vector<Entry> out;
  for (auto& entry : *all) {
    if (std::binary_search(uids.begin(), uids.end(), entry.uid)) out.push_back(std::move(entry));
  }
  return out;
}

// Every entry with \Deleted, without reading the rest of the mailbox.
Result<std::vector<Entry>> deleted_entries(Database& db, MailboxId mailbox) {
  auto q = db.query(
      "SELECT uid, modseq, flags, keywords, message_id, size, internal_date, save_date "
      "FROM entries WHERE mailbox_id = ?1 AND (flags & ?2) <> 0 ORDER BY uid");
  if (!q) return Unexpected{q.error()};
  q->bind(mailbox, static_cast<uint32_t>(kDeleted));
  std::vector<Entry> out;
  for (;;) {
    auto row = q->next();
    if (!row) return Unexpected{row.error()};
    if (!*row) return out;
    out.push_back(records::read_entry(*q));
  }
}

bool same_keyword(std::string_view a, std::string_view b) {
  return records::lower_ascii(a) == records::lower_ascii(b);
}

std::vector<std::string> apply_keywords(const std::vector<std::string>& current, FlagOp op,
                                        const std::vector<std::string>& given) {
  switch (op) {
    case FlagOp::kSet:
      return given;
    case FlagOp::kAdd: {
      std::vector<std::string> out = current;
      out.insert(out.end(), given.begin(), given.end());
      return out;
    }
    case FlagOp::kRemove: {
      std::vector<std::string> out;
      for (const auto& keyword : current) {
        bool removed = std::any_of(given.begin(), given.end(),
                                   [&](const auto& g) { return same_keyword(keyword, g); });
        if (!removed) out.push_back(keyword);
      }
      return out;
    }
  }
  return current;
}

uint32_t apply_flags(uint32_t current, FlagOp op, uint32_t given) {
  given &= kSystemFlags;
  switch (op) {
    case FlagOp::kSet:
      return given;
    case FlagOp::kAdd:
      return current | given;
    case FlagOp::kRemove:
      return current & ~given;
  }
  return current;
}

Result<FlagChangeResult> change_flags_op(WriteContext& ctx, const FlagChange& change) {
  auto mailbox = records::load_mailbox(ctx.db(), change.mailbox);
  if (!mailbox) return Unexpected{mailbox.error()};
  auto entries = entries_among(ctx.db(), mailbox->id, sorted_unique(change.uids));
  if (!entries) return Unexpected{entries.error()};

  FlagChangeResult result;
  for (auto& entry : *entries) {
    // RFC 7162 §3.1.3: a message modified since UNCHANGEDSINCE is left alone and reported.
    if (change.unchanged_since && entry.modseq > *change.unchanged_since) {
      result.modified.push_back(entry.uid);
      continue;
    }
    uint32_t flags = apply_flags(entry.flags, change.op, change.flags);
    std::string before = records::join_keywords(entry.keywords);
    std::string after =
        records::join_keywords(apply_keywords(entry.keywords, change.op, change.keywords));
    if (flags == entry.flags && before == after) continue;
    entry.flags = flags;
    entry.keywords = records::split_keywords(after);
    result.updated.push_back(std::move(entry));
  }
  if (result.updated.empty()) return result;

  ModSeq modseq = ++mailbox->highest_modseq;
  for (auto& entry : result.updated) {
    entry.modseq = modseq;
    auto q = ctx.db().query(
        "UPDATE entries SET flags = ?3, keywords = ?4, modseq = ?5 "
        "WHERE mailbox_id = ?1 AND uid = ?2");
    if (!q) return Unexpected{q.error()};
    auto s =
        q->bind(mailbox->id, entry.uid, entry.flags, records::join_keywords(entry.keywords), modseq)
            .run();
    if (!s) return Unexpected{s.error()};
  }
  if (auto s = records::save_counters(ctx, *mailbox); !s) return Unexpected{s.error()};
  return result;
}

enum class ExpungeScope { kGiven, kDeletedAmongGiven };

Result<std::vector<Uid>> expunge_op(WriteContext& ctx, MailboxId id, const std::vector<Uid>& uids,
                                    ExpungeScope scope) {
  auto mailbox = records::load_mailbox(ctx.db(), id);
  if (!mailbox) return Unexpected{mailbox.error()};
  bool only_deleted = scope == ExpungeScope::kDeletedAmongGiven || uids.empty();
  auto entries = uids.empty() ? deleted_entries(ctx.db(), id)
                              : entries_among(ctx.db(), id, sorted_unique(uids));
  if (!entries) return Unexpected{entries.error()};
  if (only_deleted) {
    std::erase_if(*entries, [](const Entry& entry) { return (entry.flags & kDeleted) == 0; });
  }
  if (entries->empty()) return std::vector<Uid>();
  mailbox->highest_modseq++;
  auto removed = records::remove_entries(ctx, *mailbox, *entries);
  if (!removed) return removed;
  if (auto s = records::save_counters(ctx, *mailbox); !s) return Unexpected{s.error()};
  return removed;
}

Result<CopyResult> copy_op(WriteContext& ctx, MailboxId from, const std::vector<Uid>& uids,
                           MailboxId to, bool move) {
  if (move && from == to) {
    return fail(Errc::kInvalidArgument, "source and destination are the same mailbox");
  }
  auto source = records::load_mailbox(ctx.db(), from);
  if (!source) return Unexpected{source.error()};
  auto dest = records::load_mailbox(ctx.db(), to);
  if (!dest) return Unexpected{dest.error()};
  auto entries = entries_among(ctx.db(), from, sorted_unique(uids));
  if (!entries) return Unexpected{entries.error()};

  CopyResult result;
  result.uidvalidity = dest->uidvalidity;
  if (entries->empty()) return result;

  int64_t total = 0;
  for (const auto& entry : *entries) total += static_cast<int64_t>(entry.size);
  // A move within one account does not grow it: no quota check, the expunge below gives
  // the same octets back.
  bool check = !(move && source->account == dest->account);
  if (auto s = records::charge_quota(ctx.db(), dest->account, total, check); !s) {
    return Unexpected{s.error()};
  }

  dest->highest_modseq++;
  for (const auto& entry : *entries) {
    records::NewEntry copy;
    copy.message = entry.message;
    copy.size = entry.size;
    copy.flags = entry.flags;
    copy.keywords = records::join_keywords(entry.keywords);
    copy.internal_date = entry.internal_date;
    auto uid = records::insert_entry(ctx, *dest, copy);
    if (!uid) return Unexpected{uid.error()};
    result.source_uids.push_back(entry.uid);
    result.dest_uids.push_back(*uid);
  }
  if (auto s = records::save_counters(ctx, *dest); !s) return Unexpected{s.error()};

  if (move) {
    source->highest_modseq++;
    auto removed = records::remove_entries(ctx, *source, *entries);
    if (!removed) return Unexpected{removed.error()};
    if (auto s = records::save_counters(ctx, *source); !s) return Unexpected{s.error()};
  }
  return result;
}

Status require_mailbox(Database& db, MailboxId mailbox) {
  auto q = db.query("SELECT 1 FROM mailboxes WHERE id = ?1");
  if (!q) return Unexpected{q.error()};
  auto row = q->bind(mailbox).next();
  if (!row) return Unexpected{row.error()};
  if (!*row) return fail(Errc::kNotFound, fmt::format("no mailbox {}", mailbox));
  return {};
}

}  // namespace

// --- Reads ---

Result<std::vector<Entry>> Store::entries(MailboxId mailbox) {
  return entries_in(mailbox, 1, kLastUid);
}

Result<std::vector<Entry>> Store::entries_in(MailboxId mailbox, Uid first, Uid last) {
  auto txn = Transaction::begin(*db_, Transaction::Mode::kDeferred);
  if (!txn) return Unexpected{txn.error()};
  if (auto s = require_mailbox(*db_, mailbox); !s) return Unexpected{s.error()};
  auto entries = records::load_entries(*db_, mailbox, first, last);
  if (!entries) return entries;
  if (auto s = txn->commit(); !s) return Unexpected{s.error()};
  return entries;
}

Result<Changes> Store::changes_since(MailboxId mailbox, ModSeq modseq) {
  // One snapshot for the counter and both lists.
  auto txn = Transaction::begin(*db_, Transaction::Mode::kDeferred);
  if (!txn) return Unexpected{txn.error()};
  auto found = records::load_mailbox(*db_, mailbox);
  if (!found) return Unexpected{found.error()};
  Changes changes;
  changes.highest_modseq = found->highest_modseq;
  {
    auto q = db_->query(
        "SELECT uid, modseq, flags, keywords, message_id, size, internal_date, save_date "
        "FROM entries WHERE mailbox_id = ?1 AND modseq > ?2 ORDER BY uid");
    if (!q) return Unexpected{q.error()};
    q->bind(mailbox, modseq);
    for (;;) {
      auto row = q->next();
      if (!row) return Unexpected{row.error()};
      if (!*row) break;
      changes.changed.push_back(records::read_entry(*q));
    }
  }
  {
    auto q =
        db_->query("SELECT uid FROM expunged WHERE mailbox_id = ?1 AND modseq > ?2 ORDER BY uid");
    if (!q) return Unexpected{q.error()};
    q->bind(mailbox, modseq);
    for (;;) {
      auto row = q->next();
      if (!row) return Unexpected{row.error()};
      if (!*row) break;
      changes.expunged.push_back(static_cast<Uid>(q->integer(0)));
    }
  }
  if (auto s = txn->commit(); !s) return Unexpected{s.error()};
  return changes;
}

// --- Writes ---

void Store::change_flags(FlagChange change, Completion<FlagChangeResult> done) {
  submit_op<FlagChangeResult>(
      *writer_,
      [change = std::move(change)](WriteContext& ctx) { return change_flags_op(ctx, change); },
      std::move(done));
}

void Store::expunge(MailboxId mailbox, std::vector<Uid> uids, Completion<std::vector<Uid>> done) {
  submit_op<std::vector<Uid>>(
      *writer_,
      [mailbox, uids = std::move(uids)](WriteContext& ctx) {
        return expunge_op(ctx, mailbox, uids, ExpungeScope::kGiven);
      },
      std::move(done));
}

void Store::expunge_deleted(MailboxId mailbox, std::vector<Uid> uids,
                            Completion<std::vector<Uid>> done) {
  submit_op<std::vector<Uid>>(
      *writer_,
      [mailbox, uids = std::move(uids)](WriteContext& ctx) -> Result<std::vector<Uid>> {
        if (uids.empty()) return std::vector<Uid>();
        return expunge_op(ctx, mailbox, uids, ExpungeScope::kDeletedAmongGiven);
      },
      std::move(done));
}

void Store::copy(MailboxId from, std::vector<Uid> uids, MailboxId to, Completion<CopyResult> done) {
  submit_op<CopyResult>(
      *writer_,
      [from, uids = std::move(uids), to](WriteContext& ctx) {
        return copy_op(ctx, from, uids, to, false);
      },
      std::move(done));
}

void Store::move(MailboxId from, std::vector<Uid> uids, MailboxId to, Completion<CopyResult> done) {
  submit_op<CopyResult>(
      *writer_,
      [from, uids = std::move(uids), to](WriteContext& ctx) {
        return copy_op(ctx, from, uids, to, true);
      },
      std::move(done));
}

Result<FlagChangeResult> Store::change_flags_sync(FlagChange change) {
  return run_op<FlagChangeResult>(*writer_, [change = std::move(change)](WriteContext& ctx) {
    return change_flags_op(ctx, change);
  });
}

Result<std::vector<Uid>> Store::expunge_sync(MailboxId mailbox, std::vector<Uid> uids) {
  return run_op<std::vector<Uid>>(*writer_, [mailbox, uids = std::move(uids)](WriteContext& ctx) {
    return expunge_op(ctx, mailbox, uids, ExpungeScope::kGiven);
  });
}

Result<CopyResult> Store::copy_sync(MailboxId from, std::vector<Uid> uids, MailboxId to) {
  return run_op<CopyResult>(*writer_, [from, uids = std::move(uids), to](WriteContext& ctx) {
    return copy_op(ctx, from, uids, to, false);
  });
}

Result<CopyResult> Store::move_sync(MailboxId from, std::vector<Uid> uids, MailboxId to) {
  return run_op<CopyResult>(*writer_, [from, uids = std::move(uids), to](WriteContext& ctx) {
    return copy_op(ctx, from, uids, to, true);
  });
}

}  // namespace chapar::store
