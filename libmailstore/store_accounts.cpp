// SPDX-License-Identifier: AGPL-3.0-or-later
// Domains, accounts and aliases: lookups on the caller's connection, changes through the
// writer (synchronously: these are administration).
#include <fmt/format.h>

#include <array>
#include <utility>

#include "libmailstore/records.hpp"
#include "libmailstore/store.hpp"
#include "libmailstore/writer.hpp"

namespace chapar::store {

namespace {

using records::lower_ascii;

// Plus-addressing: "user+tag" delivers to "user".
constexpr char kPlusSeparator = '+';

struct StandardMailbox {
  const char* name;
  SpecialUse use;
};
// RFC 6154 special-use mailboxes every new account gets.
constexpr std::array<StandardMailbox, 6> kStandardMailboxes = {{
    {"INBOX", SpecialUse::kNone},
    {"Drafts", SpecialUse::kDrafts},
    {"Sent", SpecialUse::kSent},
    {"Trash", SpecialUse::kTrash},
    {"Junk", SpecialUse::kJunk},
    {"Archive", SpecialUse::kArchive},
}};

Status check_domain_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return fail(Errc::kInvalidArgument, "bad domain name");
  for (unsigned char c : name) {
    if (c <= ' ' || c == 0x7f || c == '@' || c == '/' || c == '\\') {
      return fail(Errc::kInvalidArgument, fmt::format("bad domain name: {}", name));
    }
  }
  if (name.front() == '.' || name.back() == '.' || name.find("..") != std::string_view::npos) {
    return fail(Errc::kInvalidArgument, fmt::format("bad domain name: {}", name));
  }
  return {};
}

// The account an address leads to by its exact name or an exact alias.
Result<std::optional<AccountId>> direct_target(Database& db, std::string_view key) {
  auto account = records::find_account(db, key);
  if (!account) return Unexpected{account.error()};
  if (*account) return std::optional<AccountId>((*account)->id);
  return records::find_alias(db, key);
}

// The same, then with a +tag removed.
Result<std::optional<AccountId>> address_target(Database& db, const records::Address& address) {
  auto target = direct_target(db, address.key());
  if (!target || *target) return target;
  size_t plus = address.local.find(kPlusSeparator);
  if (plus == std::string::npos || plus == 0) return std::optional<AccountId>();
  records::Address base{address.local.substr(0, plus), address.domain};
  return direct_target(db, base.key());
}

Result<Account> account_by_address(Database& db, std::string_view address) {
  auto parsed = records::parse_address(address);
  if (!parsed) return Unexpected{parsed.error()};
  auto account = records::find_account(db, parsed->key());
  if (!account) return Unexpected{account.error()};
  if (!*account) return fail(Errc::kNotFound, fmt::format("no account {}", address));
  return std::move(**account);
}

template <typename Value>
Status update_account(WriteContext& ctx, const char* sql, std::string_view address,
                      const Value& value) {
  auto parsed = records::parse_address(address);
  if (!parsed) return Unexpected{parsed.error()};
  auto q = ctx.db().query(sql);
  if (!q) return Unexpected{q.error()};
  if (auto s = q->bind(parsed->key(), value).run(); !s) return s;
  if (ctx.db().changes() == 0) return fail(Errc::kNotFound, fmt::format("no account {}", address));
  return {};
}

}  // namespace

// --- Reads ---

Result<std::vector<Domain>> Store::list_domains() {
  auto q = db_->query("SELECT id, name FROM domains ORDER BY name");
  if (!q) return Unexpected{q.error()};
  std::vector<Domain> out;
  for (;;) {
    auto row = q->next();
    if (!row) return Unexpected{row.error()};
    if (!*row) return out;
    out.push_back(Domain{q->integer(0), q->text(1)});
  }
}

Result<bool> Store::is_local_domain(std::string_view domain) {
  auto id = records::find_domain(*db_, domain);
  if (!id) return Unexpected{id.error()};
  return id->has_value();
}

Result<std::vector<Account>> Store::list_accounts(std::string_view domain) {
  auto q = db_->query(
      "SELECT a.id, a.local_part, d.name, a.password_hash, a.quota_bytes, a.used_bytes, "
      "a.disabled FROM accounts a JOIN domains d ON d.id = a.domain_id "
      "WHERE ?1 = '' OR d.name = ?1 ORDER BY d.name, a.address_key");
  if (!q) return Unexpected{q.error()};
  q->bind(lower_ascii(domain));
  std::vector<Account> out;
  for (;;) {
    auto row = q->next();
    if (!row) return Unexpected{row.error()};
    if (!*row) return out;
    out.push_back(records::read_account(*q));
  }
}

Result<Account> Store::find_account(std::string_view address) {
  return account_by_address(*db_, address);
}

Result<Account> Store::account(AccountId id) {
  return records::load_account(*db_, id);
}

Result<std::vector<Alias>> Store::list_aliases(std::string_view domain) {
  auto q = db_->query(
      "SELECT al.id, al.source, a.local_part || '@' || d.name FROM aliases al "
      "JOIN accounts a ON a.id = al.account_id JOIN domains d ON d.id = a.domain_id "
      "JOIN domains sd ON sd.id = al.domain_id "
      "WHERE ?1 = '' OR sd.name = ?1 ORDER BY sd.name, al.source_key");
  if (!q) return Unexpected{q.error()};
  q->bind(lower_ascii(domain));
  std::vector<Alias> out;
  for (;;) {
    auto row = q->next();
    if (!row) return Unexpected{row.error()};
    if (!*row) return out;
    out.push_back(Alias{q->integer(0), q->text(1), q->text(2)});
  }
}

Result<Recipient> Store::resolve_recipient(std::string_view address) {
  auto parsed = records::parse_address(address);
  if (!parsed) return Unexpected{parsed.error()};
  Recipient recipient;
  recipient.address = std::string(address);
  // One snapshot (and one read lock) for the up to four lookups below.
  auto txn = Transaction::begin(*db_, Transaction::Mode::kDeferred);
  if (!txn) return Unexpected{txn.error()};
  auto domain = records::find_domain(*db_, parsed->domain);
  if (!domain) return Unexpected{domain.error()};
  if (!*domain) {
    recipient.kind = Recipient::Kind::kRemote;
  } else {
    auto target = address_target(*db_, *parsed);
    if (!target) return Unexpected{target.error()};
    if (!*target) {
      target = records::find_alias(*db_, "@" + parsed->domain);
      if (!target) return Unexpected{target.error()};
    }
    if (*target) {
      recipient.kind = Recipient::Kind::kLocal;
      recipient.account = **target;
    }
  }
  if (auto s = txn->commit(); !s) return Unexpected{s.error()};
  return recipient;
}

Result<bool> Store::may_send_as(AccountId account, std::string_view address) {
  auto parsed = records::parse_address(address);
  if (!parsed) return false;
  auto target = address_target(*db_, *parsed);
  if (!target) return Unexpected{target.error()};
  return *target && **target == account;
}

Result<bool> Store::has_room(AccountId account, uint64_t size) {
  auto found = records::load_account(*db_, account);
  if (!found) return Unexpected{found.error()};
  return found->has_room(size);
}

// --- Writes ---

Result<DomainId> Store::add_domain_sync(std::string_view name) {
  std::string domain = lower_ascii(name);
  if (auto s = check_domain_name(domain); !s) return Unexpected{s.error()};
  return run_op<DomainId>(*writer_, [domain](WriteContext& ctx) -> Result<DomainId> {
    auto q = ctx.db().query("INSERT INTO domains(name) VALUES (?1)");
    if (!q) return Unexpected{q.error()};
    if (auto s = q->bind(domain).run(); !s) {
      if (s.error().code == Errc::kAlreadyExists) {
        return fail(Errc::kAlreadyExists, fmt::format("domain {} exists", domain));
      }
      return Unexpected{s.error()};
    }
    return ctx.db().last_insert_id();
  });
}

Status Store::remove_domain_sync(std::string_view name) {
  std::string domain = lower_ascii(name);
  return run_op<void>(*writer_, [domain](WriteContext& ctx) -> Status {
    auto id = records::find_domain(ctx.db(), domain);
    if (!id) return Unexpected{id.error()};
    if (!*id) return fail(Errc::kNotFound, fmt::format("no domain {}", domain));
    {
      auto q = ctx.db().query("SELECT COUNT(*) FROM accounts WHERE domain_id = ?1");
      if (!q) return Unexpected{q.error()};
      auto row = q->bind(**id).next();
      if (!row) return Unexpected{row.error()};
      if (q->integer(0) > 0) {
        return fail(Errc::kPermissionDenied,
                    fmt::format("domain {} still has {} accounts", domain, q->integer(0)));
      }
    }
    auto q = ctx.db().query("DELETE FROM domains WHERE id = ?1");
    if (!q) return Unexpected{q.error()};
    return q->bind(**id).run();
  });
}

Result<AccountId> Store::add_account_sync(std::string_view address, std::string_view password_hash,
                                          uint64_t quota_bytes) {
  auto parsed = records::parse_address(address);
  if (!parsed) return Unexpected{parsed.error()};
  return run_op<AccountId>(
      *writer_,
      [parsed = *parsed, hash = std::string(password_hash),
       quota_bytes](WriteContext& ctx) -> Result<AccountId> {
        auto domain = records::find_domain(ctx.db(), parsed.domain);
        if (!domain) return Unexpected{domain.error()};
        if (!*domain) return fail(Errc::kNotFound, fmt::format("no domain {}", parsed.domain));
        auto alias = records::find_alias(ctx.db(), parsed.key());
        if (!alias) return Unexpected{alias.error()};
        if (*alias) return fail(Errc::kAlreadyExists, fmt::format("{} is an alias", parsed.key()));
        {
          auto q = ctx.db().query(
              "INSERT INTO accounts(domain_id, local_part, address_key, password_hash, "
              "quota_bytes) VALUES (?1, ?2, ?3, ?4, ?5)");
          if (!q) return Unexpected{q.error()};
          if (auto s = q->bind(**domain, parsed.local, parsed.key(), hash, quota_bytes).run(); !s) {
            if (s.error().code == Errc::kAlreadyExists) {
              return fail(Errc::kAlreadyExists, fmt::format("account {} exists", parsed.key()));
            }
            return Unexpected{s.error()};
          }
        }
        AccountId id = ctx.db().last_insert_id();
        for (const auto& standard : kStandardMailboxes) {
          auto mailbox = records::insert_mailbox(ctx, id, standard.name, standard.use, true);
          if (!mailbox) return Unexpected{mailbox.error()};
        }
        return id;
      });
}

Status Store::set_password_sync(std::string_view address, std::string_view password_hash) {
  return run_op<void>(*writer_, [address = std::string(address),
                                 hash = std::string(password_hash)](WriteContext& ctx) {
    return update_account(ctx, "UPDATE accounts SET password_hash = ?2 WHERE address_key = ?1",
                          address, hash);
  });
}

Status Store::set_quota_sync(std::string_view address, uint64_t quota_bytes) {
  return run_op<void>(*writer_, [address = std::string(address), quota_bytes](WriteContext& ctx) {
    return update_account(ctx, "UPDATE accounts SET quota_bytes = ?2 WHERE address_key = ?1",
                          address, quota_bytes);
  });
}

Status Store::set_disabled_sync(std::string_view address, bool disabled) {
  return run_op<void>(*writer_, [address = std::string(address), disabled](WriteContext& ctx) {
    return update_account(ctx, "UPDATE accounts SET disabled = ?2 WHERE address_key = ?1", address,
                          disabled);
  });
}

Status Store::remove_account_sync(std::string_view address) {
  return run_op<void>(*writer_, [address = std::string(address)](WriteContext& ctx) -> Status {
    auto account = account_by_address(ctx.db(), address);
    if (!account) return Unexpected{account.error()};
    std::vector<MessageId> messages;
    {
      auto q = ctx.db().query(
          "SELECT DISTINCT message_id FROM entries WHERE mailbox_id IN "
          "(SELECT id FROM mailboxes WHERE account_id = ?1)");
      if (!q) return Unexpected{q.error()};
      q->bind(account->id);
      for (;;) {
        auto row = q->next();
        if (!row) return Unexpected{row.error()};
        if (!*row) break;
        messages.push_back(q->integer(0));
      }
    }
    for (const char* sql :
         {"DELETE FROM entries WHERE mailbox_id IN "
          "(SELECT id FROM mailboxes WHERE account_id = ?1)",
          "DELETE FROM mailboxes WHERE account_id = ?1", "DELETE FROM accounts WHERE id = ?1"}) {
      auto q = ctx.db().query(sql);
      if (!q) return Unexpected{q.error()};
      if (auto s = q->bind(account->id).run(); !s) return s;
    }
    for (MessageId message : messages) {
      if (auto s = records::collect_message(ctx.db(), message); !s) return s;
    }
    return {};
  });
}

Status Store::add_alias_sync(std::string_view source, std::string_view target) {
  records::Address source_address;
  bool catch_all = !source.empty() && source.front() == '@';
  if (catch_all) {
    source_address.domain = lower_ascii(source.substr(1));
    if (auto s = check_domain_name(source_address.domain); !s) return s;
  } else {
    auto parsed = records::parse_address(source);
    if (!parsed) return Unexpected{parsed.error()};
    source_address = std::move(*parsed);
  }
  std::string key = catch_all ? "@" + source_address.domain : source_address.key();
  return run_op<void>(
      *writer_,
      [source = std::string(source), key, target = std::string(target),
       domain_name = source_address.domain](WriteContext& ctx) -> Status {
        auto domain = records::find_domain(ctx.db(), domain_name);
        if (!domain) return Unexpected{domain.error()};
        if (!*domain) return fail(Errc::kNotFound, fmt::format("no domain {}", domain_name));
        auto account = account_by_address(ctx.db(), target);
        if (!account) return Unexpected{account.error()};
        auto existing = records::find_account(ctx.db(), key);
        if (!existing) return Unexpected{existing.error()};
        if (*existing) return fail(Errc::kAlreadyExists, fmt::format("{} is an account", source));
        auto q = ctx.db().query(
            "INSERT INTO aliases(domain_id, source, source_key, account_id) VALUES (?1, ?2, ?3, "
            "?4)");
        if (!q) return Unexpected{q.error()};
        if (auto s = q->bind(**domain, source, key, account->id).run(); !s) {
          if (s.error().code == Errc::kAlreadyExists) {
            return fail(Errc::kAlreadyExists, fmt::format("alias {} exists", source));
          }
          return s;
        }
        return {};
      });
}

Status Store::remove_alias_sync(std::string_view source) {
  std::string key;
  if (!source.empty() && source.front() == '@') {
    key = lower_ascii(source);
  } else {
    auto parsed = records::parse_address(source);
    if (!parsed) return Unexpected{parsed.error()};
    key = parsed->key();
  }
  return run_op<void>(*writer_, [key, source = std::string(source)](WriteContext& ctx) -> Status {
    auto q = ctx.db().query("DELETE FROM aliases WHERE source_key = ?1");
    if (!q) return Unexpected{q.error()};
    if (auto s = q->bind(key).run(); !s) return s;
    if (ctx.db().changes() == 0) return fail(Errc::kNotFound, fmt::format("no alias {}", source));
    return {};
  });
}

}  // namespace chapar::store
