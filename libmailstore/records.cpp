// SPDX-License-Identifier: AGPL-3.0-or-later
#include "libmailstore/records.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace chapar::store::records {

namespace {

// Content up to this size is bound in one piece; larger content streams into a zeroblob
// from the Spool's view so that no second copy of it is made on the heap.
constexpr uint64_t kInlineContent = 64 * 1024;

constexpr size_t kMaxMailboxName = 1024;

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

}  // namespace

Entry read_entry(const Query& q) {
  Entry entry;
  entry.uid = static_cast<Uid>(q.integer(0));
  entry.modseq = static_cast<ModSeq>(q.integer(1));
  entry.flags = static_cast<uint32_t>(q.integer(2));
  entry.keywords = split_keywords(q.text(3));
  entry.message = q.integer(4);
  entry.size = static_cast<uint64_t>(q.integer(5));
  entry.internal_date = q.integer(6);
  entry.save_date = q.integer(7);
  return entry;
}

Mailbox read_mailbox(const Query& q) {
  Mailbox mailbox;
  mailbox.id = q.integer(0);
  mailbox.account = q.integer(1);
  mailbox.name = q.text(2);
  mailbox.uidvalidity = static_cast<uint32_t>(q.integer(3));
  mailbox.uidnext = static_cast<Uid>(q.integer(4));
  mailbox.highest_modseq = static_cast<ModSeq>(q.integer(5));
  mailbox.special_use = static_cast<SpecialUse>(q.integer(6));
  mailbox.subscribed = q.integer(7) != 0;
  return mailbox;
}

Account read_account(const Query& q) {
  Account account;
  account.id = q.integer(0);
  account.local_part = q.text(1);
  account.domain = q.text(2);
  account.password_hash = q.text(3);
  account.quota_bytes = static_cast<uint64_t>(q.integer(4));
  account.used_bytes = static_cast<uint64_t>(q.integer(5));
  account.disabled = q.integer(6) != 0;
  return account;
}

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Result<Address> parse_address(std::string_view address) {
  size_t at = address.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == address.size()) {
    return fail(Errc::kInvalidArgument, fmt::format("not an address: {}", address));
  }
  for (unsigned char c : address) {
    if (is_control(c) || c == ' ') {
      return fail(Errc::kInvalidArgument, "an address may not hold spaces or control characters");
    }
  }
  return Address{std::string(address.substr(0, at)), lower_ascii(address.substr(at + 1))};
}

std::string canonical_mailbox_name(std::string_view name) {
  constexpr std::string_view kInbox = "INBOX";
  if (name.size() >= kInbox.size() && lower_ascii(name.substr(0, kInbox.size())) == "inbox" &&
      (name.size() == kInbox.size() || name[kInbox.size()] == kHierarchySeparator)) {
    return std::string(kInbox) + std::string(name.substr(kInbox.size()));
  }
  return std::string(name);
}

Status check_mailbox_name(std::string_view name) {
  if (name.empty()) return fail(Errc::kInvalidArgument, "empty mailbox name");
  if (name.size() > kMaxMailboxName) return fail(Errc::kInvalidArgument, "mailbox name too long");
  for (unsigned char c : name) {
    // '*' and '%' are LIST wildcards (RFC 9051 §6.3.9); a name holding them could not be
    // listed on its own.
    if (is_control(c) || c == '*' || c == '%') {
      return fail(Errc::kInvalidArgument, "mailbox name with a forbidden character");
    }
  }
  if (name.front() == kHierarchySeparator || name.back() == kHierarchySeparator ||
      name.find("//") != std::string_view::npos) {
    return fail(Errc::kInvalidArgument, "mailbox name with an empty hierarchy level");
  }
  return {};
}

std::vector<std::string> split_keywords(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    size_t space = text.find(' ');
    if (space != 0) out.emplace_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return out;
}

std::string join_keywords(const std::vector<std::string>& keywords) {
  // Keywords compare case-insensitively (RFC 9051 §2.3.2): keep the first spelling.
  std::string out;
  std::vector<std::string> seen;
  for (const auto& keyword : keywords) {
    if (keyword.empty()) continue;
    auto key = lower_ascii(keyword);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
    seen.push_back(std::move(key));
    if (!out.empty()) out += ' ';
    out += keyword;
  }
  return out;
}

// --- Reads ---

Result<std::optional<DomainId>> find_domain(Database& db, std::string_view name) {
  auto q = db.query("SELECT id FROM domains WHERE name = ?1");
  if (!q) return Unexpected{q.error()};
  q->bind(lower_ascii(name));
  auto row = q->next();
  if (!row) return Unexpected{row.error()};
  if (!*row) return std::optional<DomainId>();
  return std::optional<DomainId>(q->integer(0));
}

Result<Account> load_account(Database& db, AccountId id) {
  auto q = db.query(
      "SELECT a.id, a.local_part, d.name, a.password_hash, a.quota_bytes, a.used_bytes, "
      "a.disabled FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE a.id = ?1");
  if (!q) return Unexpected{q.error()};
  q->bind(id);
  auto row = q->next();
  if (!row) return Unexpected{row.error()};
  if (!*row) return fail(Errc::kNotFound, fmt::format("no account {}", id));
  return read_account(*q);
}

Result<std::optional<Account>> find_account(Database& db, std::string_view address_key) {
  auto q = db.query(
      "SELECT a.id, a.local_part, d.name, a.password_hash, a.quota_bytes, a.used_bytes, "
      "a.disabled FROM accounts a JOIN domains d ON d.id = a.domain_id "
      "WHERE a.address_key = ?1");
  if (!q) return Unexpected{q.error()};
  q->bind(address_key);
  auto row = q->next();
  if (!row) return Unexpected{row.error()};
  if (!*row) return std::optional<Account>();
  return std::optional<Account>(read_account(*q));
}

Result<std::optional<AccountId>> find_alias(Database& db, std::string_view source_key) {
  auto q = db.query("SELECT account_id FROM aliases WHERE source_key = ?1");
  if (!q) return Unexpected{q.error()};
  q->bind(source_key);
  auto row = q->next();
  if (!row) return Unexpected{row.error()};
  if (!*row) return std::optional<AccountId>();
  return std::optional<AccountId>(q->integer(0));
}

Result<Mailbox> load_mailbox(Database& db, MailboxId id) {
  auto q = db.query(
      "SELECT id, account_id, name, uidvalidity, uidnext, highest_modseq, special_use, "
      "subscribed FROM mailboxes WHERE id = ?1");
  if (!q) return Unexpected{q.error()};
  q->bind(id);
  auto row = q->next();
  if (!row) return Unexpected{row.error()};
  if (!*row) return fail(Errc::kNotFound, fmt::format("no mailbox {}", id));
  return read_mailbox(*q);
}

Result<std::optional<Mailbox>> find_mailbox(Database& db, AccountId account,
                                            std::string_view name) {
  auto q = db.query(
      "SELECT id, account_id, name, uidvalidity, uidnext, highest_modseq, special_use, "
      "subscribed FROM mailboxes WHERE account_id = ?1 AND name = ?2");
  if (!q) return Unexpected{q.error()};
  q->bind(account, canonical_mailbox_name(name));
  auto row = q->next();
  if (!row) return Unexpected{row.error()};
  if (!*row) return std::optional<Mailbox>();
  return std::optional<Mailbox>(read_mailbox(*q));
}

Result<std::vector<Entry>> load_entries(Database& db, MailboxId mailbox, Uid first, Uid last) {
  auto q = db.query(
      "SELECT uid, modseq, flags, keywords, message_id, size, internal_date, save_date "
      "FROM entries WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3 ORDER BY uid");
  if (!q) return Unexpected{q.error()};
  q->bind(mailbox, first, last);
  std::vector<Entry> out;
  for (;;) {
    auto row = q->next();
    if (!row) return Unexpected{row.error()};
    if (!*row) break;
    out.push_back(read_entry(*q));
  }
  return out;
}

// --- Writes ---

Status save_counters(WriteContext& ctx, const Mailbox& mailbox) {
  auto q = ctx.db().query("UPDATE mailboxes SET uidnext = ?2, highest_modseq = ?3 WHERE id = ?1");
  if (!q) return Unexpected{q.error()};
  if (auto s = q->bind(mailbox.id, mailbox.uidnext, mailbox.highest_modseq).run(); !s) return s;
  ctx.changed(mailbox.id, mailbox.highest_modseq);
  return {};
}

Result<uint32_t> next_uidvalidity(WriteContext& ctx) {
  int64_t last = 0;
  {
    auto q = ctx.db().query("SELECT value FROM counters WHERE name = 'uidvalidity'");
    if (!q) return Unexpected{q.error()};
    auto row = q->next();
    if (!row) return Unexpected{row.error()};
    if (*row) last = q->integer(0);
  }
  int64_t next = std::max<int64_t>(ctx.now(), last + 1);
  if (next > std::numeric_limits<uint32_t>::max()) {
    return fail(Errc::kLimitExceeded, "UIDVALIDITY values exhausted");
  }
  auto q = ctx.db().query(
      "INSERT INTO counters(name, value) VALUES ('uidvalidity', ?1) "
      "ON CONFLICT(name) DO UPDATE SET value = excluded.value");
  if (!q) return Unexpected{q.error()};
  if (auto s = q->bind(next).run(); !s) return Unexpected{s.error()};
  return static_cast<uint32_t>(next);
}

Result<MailboxId> insert_mailbox(WriteContext& ctx, AccountId account, std::string_view name,
                                 SpecialUse use, bool subscribed) {
  if (auto s = check_mailbox_name(name); !s) return Unexpected{s.error()};
  auto uidvalidity = next_uidvalidity(ctx);
  if (!uidvalidity) return Unexpected{uidvalidity.error()};
  auto q = ctx.db().query(
      "INSERT INTO mailboxes(account_id, name, uidvalidity, special_use, subscribed) "
      "VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!q) return Unexpected{q.error()};
  auto s = q->bind(account, canonical_mailbox_name(name), *uidvalidity, static_cast<int64_t>(use),
                   subscribed)
               .run();
  if (!s) {
    if (s.error().code == Errc::kAlreadyExists) {
      return fail(Errc::kAlreadyExists, fmt::format("mailbox {} exists", name));
    }
    return Unexpected{s.error()};
  }
  MailboxId id = ctx.db().last_insert_id();
  ctx.changed(id, 1);
  return id;
}

Status charge_quota(Database& db, AccountId account, int64_t delta, bool check) {
  if (check && delta > 0) {
    auto q = db.query(
        "SELECT a.quota_bytes, a.used_bytes, a.local_part || '@' || d.name "
        "FROM accounts a JOIN domains d ON d.id = a.domain_id WHERE a.id = ?1");
    if (!q) return Unexpected{q.error()};
    q->bind(account);
    auto row = q->next();
    if (!row) return Unexpected{row.error()};
    if (!*row) return fail(Errc::kNotFound, fmt::format("no account {}", account));
    int64_t quota = q->integer(0);
    int64_t used = q->integer(1);
    if (quota > 0 && used + delta > quota) {
      return fail(Errc::kQuotaExceeded, fmt::format("quota exceeded for {}", q->text(2)));
    }
  }
  auto q = db.query("UPDATE accounts SET used_bytes = MAX(0, used_bytes + ?2) WHERE id = ?1");
  if (!q) return Unexpected{q.error()};
  return q->bind(account, delta).run();
}

Result<MessageId> insert_message(WriteContext& ctx, const PreparedMessage& message) {
  if (!message.content) return fail(Errc::kInvalidArgument, "a message without content");
  std::string_view content = message.content->view();
  {
    auto q = ctx.db().query("INSERT INTO messages(size, structure, created) VALUES (?1, ?2, ?3)");
    if (!q) return Unexpected{q.error()};
    auto s =
        q->bind(static_cast<uint64_t>(content.size()), Blob{message.structure}, ctx.now()).run();
    if (!s) return Unexpected{s.error()};
  }
  MessageId id = ctx.db().last_insert_id();
  auto q = ctx.db().query("INSERT INTO message_content(message_id, content) VALUES (?1, ?2)");
  if (!q) return Unexpected{q.error()};
  if (content.size() <= kInlineContent) {
    if (auto s = q->bind(id, Blob{content}).run(); !s) return Unexpected{s.error()};
  } else {
    if (auto s = q->bind(id, ZeroBlob{content.size()}).run(); !s) return Unexpected{s.error()};
    if (auto s = ctx.db().write_blob("message_content", "content", id, 0, content); !s) {
      return Unexpected{s.error()};
    }
  }
  return id;
}

Status collect_message(Database& db, MessageId message) {
  auto q = db.query(
      "DELETE FROM messages WHERE id = ?1 "
      "AND NOT EXISTS (SELECT 1 FROM entries WHERE message_id = ?1) "
      "AND NOT EXISTS (SELECT 1 FROM queue WHERE message_id = ?1)");
  if (!q) return Unexpected{q.error()};
  return q->bind(message).run();
}

Result<Uid> insert_entry(WriteContext& ctx, Mailbox& mailbox, const NewEntry& entry) {
  if (mailbox.uidnext == std::numeric_limits<Uid>::max()) {
    // RFC 9051 §2.3.1.1: UIDs are 32-bit; a mailbox that ran out needs a new UIDVALIDITY.
    return fail(Errc::kLimitExceeded, fmt::format("mailbox {} has no UIDs left", mailbox.name));
  }
  Uid uid = mailbox.uidnext++;
  auto q = ctx.db().query(
      "INSERT INTO entries(mailbox_id, uid, message_id, flags, keywords, modseq, size, "
      "internal_date, save_date) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  if (!q) return Unexpected{q.error()};
  auto s = q->bind(mailbox.id, uid, entry.message, entry.flags, entry.keywords,
                   mailbox.highest_modseq, entry.size, entry.internal_date, ctx.now())
               .run();
  if (!s) return Unexpected{s.error()};
  return uid;
}

Result<std::vector<Uid>> remove_entries(WriteContext& ctx, Mailbox& mailbox,
                                        const std::vector<Entry>& entries) {
  std::vector<Uid> removed;
  std::vector<MessageId> messages;
  int64_t released = 0;
  for (const auto& entry : entries) {
    {
      auto q = ctx.db().query("DELETE FROM entries WHERE mailbox_id = ?1 AND uid = ?2");
      if (!q) return Unexpected{q.error()};
      if (auto s = q->bind(mailbox.id, entry.uid).run(); !s) return Unexpected{s.error()};
    }
    if (ctx.db().changes() == 0) continue;
    auto q = ctx.db().query(
        "INSERT OR REPLACE INTO expunged(mailbox_id, uid, modseq) VALUES (?1, ?2, ?3)");
    if (!q) return Unexpected{q.error()};
    if (auto s = q->bind(mailbox.id, entry.uid, mailbox.highest_modseq).run(); !s) {
      return Unexpected{s.error()};
    }
    removed.push_back(entry.uid);
    messages.push_back(entry.message);
    released += static_cast<int64_t>(entry.size);
  }
  if (auto s = charge_quota(ctx.db(), mailbox.account, -released, false); !s) {
    return Unexpected{s.error()};
  }
  std::sort(messages.begin(), messages.end());
  messages.erase(std::unique(messages.begin(), messages.end()), messages.end());
  for (MessageId message : messages) {
    if (auto s = collect_message(ctx.db(), message); !s) return Unexpected{s.error()};
  }
  std::sort(removed.begin(), removed.end());
  return removed;
}

}  // namespace chapar::store::records
