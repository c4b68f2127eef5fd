// SPDX-License-Identifier: AGPL-3.0-or-later
// Mailboxes: listing, counts, and CREATE / RENAME / DELETE / SUBSCRIBE.
#include <fmt/format.h>

#include <utility>

#include "libmailstore/records.hpp"
#include "libmailstore/store.hpp"
#include "libmailstore/writer.hpp"

namespace chapar::store {

namespace {

constexpr std::string_view kInbox = "INBOX";

Status require_account(Database& db, AccountId account) {
  auto found = records::load_account(db, account);
  if (!found) return Unexpected{found.error()};
  return {};
}

Result<Mailbox> require_mailbox(Database& db, AccountId account, std::string_view name) {
  auto found = records::find_mailbox(db, account, name);
  if (!found) return Unexpected{found.error()};
  if (!*found) return fail(Errc::kNotFound, fmt::format("no mailbox {}", name));
  return std::move(**found);
}

// RFC 9051 §6.3.4: "the server SHOULD create any superior hierarchical names that are
// needed for the CREATE command to be successfully completed".
Status create_superiors(WriteContext& ctx, AccountId account, std::string_view name) {
  for (size_t slash = name.find(records::kHierarchySeparator); slash != std::string_view::npos;
       slash = name.find(records::kHierarchySeparator, slash + 1)) {
    auto superior = name.substr(0, slash);
    auto found = records::find_mailbox(ctx.db(), account, superior);
    if (!found) return Unexpected{found.error()};
    if (*found) continue;
    auto created = records::insert_mailbox(ctx, account, superior, SpecialUse::kNone, false);
    if (!created) return Unexpected{created.error()};
  }
  return {};
}

Result<MailboxId> create(WriteContext& ctx, AccountId account, const std::string& name,
                         SpecialUse use) {
  if (auto s = require_account(ctx.db(), account); !s) return Unexpected{s.error()};
  if (auto s = records::check_mailbox_name(name); !s) return Unexpected{s.error()};
  auto existing = records::find_mailbox(ctx.db(), account, name);
  if (!existing) return Unexpected{existing.error()};
  if (*existing) return fail(Errc::kAlreadyExists, fmt::format("mailbox {} exists", name));
  if (auto s = create_superiors(ctx, account, name); !s) return Unexpected{s.error()};
  return records::insert_mailbox(ctx, account, name, use, false);
}

// RFC 9051 §6.3.6: renaming INBOX moves all its messages to a new mailbox with the given
// name and leaves INBOX empty; its inferior names, if any, are unaffected.
Status rename_inbox(WriteContext& ctx, Mailbox& inbox, const std::string& to) {
  auto created = records::insert_mailbox(ctx, inbox.account, to, SpecialUse::kNone, false);
  if (!created) return Unexpected{created.error()};
  inbox.highest_modseq++;
  {
    auto q = ctx.db().query(
        "INSERT INTO expunged(mailbox_id, uid, modseq) "
        "SELECT ?1, uid, ?2 FROM entries WHERE mailbox_id = ?1");
    if (!q) return Unexpected{q.error()};
    if (auto s = q->bind(inbox.id, inbox.highest_modseq).run(); !s) return s;
  }
  {
    // The messages keep their UIDs: the new mailbox has its own UIDVALIDITY.
    auto q = ctx.db().query("UPDATE entries SET mailbox_id = ?2 WHERE mailbox_id = ?1");
    if (!q) return Unexpected{q.error()};
    if (auto s = q->bind(inbox.id, *created).run(); !s) return s;
  }
  {
    auto q = ctx.db().query("UPDATE mailboxes SET uidnext = ?2, highest_modseq = ?3 WHERE id = ?1");
    if (!q) return Unexpected{q.error()};
    if (auto s = q->bind(*created, inbox.uidnext, inbox.highest_modseq).run(); !s) return s;
  }
  ctx.changed(*created, inbox.highest_modseq);
  return records::save_counters(ctx, inbox);
}

Status rename(WriteContext& ctx, AccountId account, const std::string& from_name,
              const std::string& to_name) {
  std::string from = records::canonical_mailbox_name(from_name);
  std::string to = records::canonical_mailbox_name(to_name);
  if (auto s = records::check_mailbox_name(to); !s) return s;
  auto source = require_mailbox(ctx.db(), account, from);
  if (!source) return Unexpected{source.error()};
  auto existing = records::find_mailbox(ctx.db(), account, to);
  if (!existing) return Unexpected{existing.error()};
  if (*existing) return fail(Errc::kAlreadyExists, fmt::format("mailbox {} exists", to));
  if (to.size() > from.size() && to.compare(0, from.size(), from) == 0 &&
      to[from.size()] == records::kHierarchySeparator) {
    return fail(Errc::kInvalidArgument, "a mailbox cannot move below itself");
  }
  if (auto s = create_superiors(ctx, account, to); !s) return s;
  if (from == kInbox) return rename_inbox(ctx, *source, to);
  // The mailbox and every inferior name: "from" and "from/..." become "to" and "to/...".
  auto q = ctx.db().query(
      "UPDATE mailboxes SET name = ?3 || substr(name, length(?2) + 1) "
      "WHERE account_id = ?1 AND (name = ?2 OR substr(name, 1, length(?2) + 1) = ?2 || '/')");
  if (!q) return Unexpected{q.error()};
  if (auto s = q->bind(account, from, to).run(); !s) {
    if (s.error().code == Errc::kAlreadyExists) {
      return fail(Errc::kAlreadyExists, fmt::format("a mailbox below {} exists", to));
    }
    return s;
  }
  ctx.changed(source->id, source->highest_modseq);
  return {};
}

Status remove(WriteContext& ctx, AccountId account, const std::string& name) {
  if (records::canonical_mailbox_name(name) == kInbox) {
    return fail(Errc::kPermissionDenied, "INBOX cannot be deleted");
  }
  auto mailbox = require_mailbox(ctx.db(), account, name);
  if (!mailbox) return Unexpected{mailbox.error()};
  int64_t released = 0;
  std::vector<MessageId> messages;
  {
    auto q = ctx.db().query(
        "SELECT message_id, SUM(size) FROM entries WHERE mailbox_id = ?1 GROUP BY message_id");
    if (!q) return Unexpected{q.error()};
    q->bind(mailbox->id);
    for (;;) {
      auto row = q->next();
      if (!row) return Unexpected{row.error()};
      if (!*row) break;
      messages.push_back(q->integer(0));
      released += q->integer(1);
    }
  }
  for (const char* sql :
       {"DELETE FROM entries WHERE mailbox_id = ?1", "DELETE FROM mailboxes WHERE id = ?1"}) {
    auto q = ctx.db().query(sql);
    if (!q) return Unexpected{q.error()};
    if (auto s = q->bind(mailbox->id).run(); !s) return s;
  }
  if (auto s = records::charge_quota(ctx.db(), account, -released, false); !s) return s;
  for (MessageId message : messages) {
    if (auto s = records::collect_message(ctx.db(), message); !s) return s;
  }
  // Sessions that have it selected learn that it is gone.
  ctx.changed(mailbox->id, mailbox->highest_modseq + 1);
  return {};
}

Status subscribe(WriteContext& ctx, AccountId account, const std::string& name, bool subscribed) {
  auto q =
      ctx.db().query("UPDATE mailboxes SET subscribed = ?3 WHERE account_id = ?1 AND name = ?2");
  if (!q) return Unexpected{q.error()};
  if (auto s = q->bind(account, records::canonical_mailbox_name(name), subscribed).run(); !s) {
    return s;
  }
  if (ctx.db().changes() == 0) return fail(Errc::kNotFound, fmt::format("no mailbox {}", name));
  return {};
}

}  // namespace

// --- Reads ---

Result<std::vector<Mailbox>> Store::list_mailboxes(AccountId account) {
  auto q = db_->query(
      "SELECT id, account_id, name, uidvalidity, uidnext, highest_modseq, special_use, "
      "subscribed FROM mailboxes WHERE account_id = ?1 ORDER BY name <> 'INBOX', name");
  if (!q) return Unexpected{q.error()};
  q->bind(account);
  std::vector<Mailbox> out;
  for (;;) {
    auto row = q->next();
    if (!row) return Unexpected{row.error()};
    if (!*row) return out;
    out.push_back(records::read_mailbox(*q));
  }
}

Result<Mailbox> Store::find_mailbox(AccountId account, std::string_view name) {
  return require_mailbox(*db_, account, name);
}

Result<Mailbox> Store::mailbox(MailboxId id) {
  return records::load_mailbox(*db_, id);
}

Result<MailboxCounts> Store::counts(MailboxId id) {
  auto q = db_->query(
      "SELECT COUNT(e.uid), COALESCE(SUM((e.flags & ?2) = 0), 0), "
      "COALESCE(SUM((e.flags & ?3) <> 0), 0), COALESCE(SUM(e.size), 0) "
      "FROM mailboxes m LEFT JOIN entries e ON e.mailbox_id = m.id WHERE m.id = ?1 "
      "GROUP BY m.id");
  if (!q) return Unexpected{q.error()};
  q->bind(id, static_cast<uint32_t>(kSeen), static_cast<uint32_t>(kDeleted));
  auto row = q->next();
  if (!row) return Unexpected{row.error()};
  if (!*row) return fail(Errc::kNotFound, fmt::format("no mailbox {}", id));
  MailboxCounts counts;
  counts.messages = static_cast<uint32_t>(q->integer(0));
  counts.unseen = static_cast<uint32_t>(q->integer(1));
  counts.deleted = static_cast<uint32_t>(q->integer(2));
  counts.size = static_cast<uint64_t>(q->integer(3));
  return counts;
}

// --- Writes ---

void Store::create_mailbox(AccountId account, std::string name, SpecialUse use,
                           Completion<MailboxId> done) {
  submit_op<MailboxId>(
      *writer_,
      [account, name = std::move(name), use](WriteContext& ctx) {
        return create(ctx, account, name, use);
      },
      std::move(done));
}

void Store::rename_mailbox(AccountId account, std::string from, std::string to,
                           Completion<void> done) {
  submit_op<void>(
      *writer_,
      [account, from = std::move(from), to = std::move(to)](WriteContext& ctx) {
        return rename(ctx, account, from, to);
      },
      std::move(done));
}

void Store::delete_mailbox(AccountId account, std::string name, Completion<void> done) {
  submit_op<void>(
      *writer_,
      [account, name = std::move(name)](WriteContext& ctx) { return remove(ctx, account, name); },
      std::move(done));
}

void Store::set_subscribed(AccountId account, std::string name, bool subscribed,
                           Completion<void> done) {
  submit_op<void>(
      *writer_,
      [account, name = std::move(name), subscribed](WriteContext& ctx) {
        return subscribe(ctx, account, name, subscribed);
      },
      std::move(done));
}

Result<MailboxId> Store::create_mailbox_sync(AccountId account, std::string name, SpecialUse use) {
  return run_op<MailboxId>(*writer_, [account, name = std::move(name), use](WriteContext& ctx) {
    return create(ctx, account, name, use);
  });
}

Status Store::rename_mailbox_sync(AccountId account, std::string from, std::string to) {
  return run_op<void>(*writer_, [account, from = std::move(from), to = std::move(to)](
                                    WriteContext& ctx) { return rename(ctx, account, from, to); });
}

Status Store::delete_mailbox_sync(AccountId account, std::string name) {
  return run_op<void>(*writer_, [account, name = std::move(name)](WriteContext& ctx) {
    return remove(ctx, account, name);
  });
}

Status Store::set_subscribed_sync(AccountId account, std::string name, bool subscribed) {
  return run_op<void>(*writer_, [account, name = std::move(name), subscribed](WriteContext& ctx) {
    return subscribe(ctx, account, name, subscribed);
  });
}

}  // namespace chapar::store
