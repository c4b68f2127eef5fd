// SPDX-License-Identifier: AGPL-3.0-or-later
// chaparctl user add|passwd|quota|list|remove|show|disable|enable.
#include <fmt/format.h>

#include "chaparctl/handlers.hpp"
#include "chaparctl/lookup.hpp"
#include "chaparctl/password_input.hpp"
#include "common/auth/password.hpp"

namespace chapar::ctl {
namespace {

// Reads the new password and hashes it for the store (yescrypt, crypt(3) format).
Result<std::string> new_password_hash(const Context& ctx, std::string_view address) {
  auto password = read_new_password(ctx, address);
  if (!password) return password;
  return auth::hash_password(*password);
}

std::string format_quota(uint64_t bytes) {
  return bytes == 0 ? std::string("unlimited") : fmt::format("{} bytes", bytes);
}

}  // namespace

Status cmd_user_add(Context& ctx) {
  auto address = address_in_hosted_domain(*ctx.store, ctx.operand(0));
  if (!address) return fail(address.error().code, address.error().message);
  uint64_t quota = 0;
  if (auto given = ctx.option("quota")) {
    auto size = parse_size(*given);
    if (!size) return fail(size.error().code, fmt::format("--quota: {}", size.error().message));
    quota = *size;
  }
  auto existing = ctx.store->find_account(address->text());
  if (existing) {
    return fail(Errc::kAlreadyExists, fmt::format("account {} exists", existing->address()));
  }
  if (existing.error().code != Errc::kNotFound)
    return fail(existing.error().code, existing.error().message);
  auto alias = find_alias(*ctx.store, *address);
  if (!alias) return fail(alias.error().code, alias.error().message);
  if (*alias) {
    return fail(Errc::kAlreadyExists, fmt::format("{} is an alias of {}; remove the alias first",
                                                  (*alias)->source, (*alias)->target));
  }
  auto hash = new_password_hash(ctx, address->text());
  if (!hash) return fail(hash.error().code, hash.error().message);
  auto added = ctx.store->add_account_sync(address->text(), *hash, quota);
  if (!added) return fail(added.error().code, added.error().message);
  ctx.io.out << "added " << address->text() << '\n';
  return {};
}

Status cmd_user_passwd(Context& ctx) {
  auto account = existing_account(*ctx.store, ctx.operand(0));
  if (!account) return fail(account.error().code, account.error().message);
  auto hash = new_password_hash(ctx, account->address());
  if (!hash) return fail(hash.error().code, hash.error().message);
  if (Status ok = ctx.store->set_password_sync(account->address(), *hash); !ok) return ok;
  ctx.io.out << "changed the password of " << account->address() << '\n';
  return {};
}

Status cmd_user_quota(Context& ctx) {
  auto account = existing_account(*ctx.store, ctx.operand(0));
  if (!account) return fail(account.error().code, account.error().message);
  auto quota = parse_size(ctx.operand(1));
  if (!quota) return fail(quota.error().code, quota.error().message);
  if (Status ok = ctx.store->set_quota_sync(account->address(), *quota); !ok) return ok;
  ctx.io.out << "quota of " << account->address() << ": " << format_quota(*quota) << '\n';
  return {};
}

Status cmd_user_list(Context& ctx) {
  std::string domain;
  if (!ctx.operand(0).empty()) {
    auto hosted = hosted_domain(*ctx.store, ctx.operand(0));
    if (!hosted) return fail(hosted.error().code, hosted.error().message);
    domain = std::move(*hosted);
  }
  auto accounts = ctx.store->list_accounts(domain);
  if (!accounts) return fail(accounts.error().code, accounts.error().message);
  for (const store::Account& account : *accounts) ctx.io.out << account.address() << '\n';
  return {};
}

Status cmd_user_remove(Context& ctx) {
  auto account = existing_account(*ctx.store, ctx.operand(0));
  if (!account) return fail(account.error().code, account.error().message);
  if (Status ok = ctx.store->remove_account_sync(account->address()); !ok) return ok;
  ctx.io.out << "removed " << account->address() << " and its mail\n";
  return {};
}

Status cmd_user_show(Context& ctx) {
  auto account = existing_account(*ctx.store, ctx.operand(0));
  if (!account) return fail(account.error().code, account.error().message);
  auto mailboxes = ctx.store->list_mailboxes(account->id);
  if (!mailboxes) return fail(mailboxes.error().code, mailboxes.error().message);
  auto aliases = ctx.store->list_aliases();
  if (!aliases) return fail(aliases.error().code, aliases.error().message);

  std::ostream& out = ctx.io.out;
  out << "address:   " << account->address() << '\n';
  out << "status:    " << (account->disabled ? "disabled" : "enabled") << '\n';
  out << "quota:     " << format_quota(account->quota_bytes) << '\n';
  out << "used:      " << account->used_bytes << " bytes\n";
  out << "mailboxes: " << mailboxes->size() << '\n';
  const std::string address = lower(account->address());
  for (const store::Alias& alias : *aliases) {
    if (lower(alias.target) == address) out << "alias:     " << alias.source << '\n';
  }
  return {};
}

Status cmd_user_disable(Context& ctx) {
  auto account = existing_account(*ctx.store, ctx.operand(0));
  if (!account) return fail(account.error().code, account.error().message);
  if (Status ok = ctx.store->set_disabled_sync(account->address(), true); !ok) return ok;
  ctx.io.out << "disabled " << account->address() << " (it keeps its mail)\n";
  return {};
}

Status cmd_user_enable(Context& ctx) {
  auto account = existing_account(*ctx.store, ctx.operand(0));
  if (!account) return fail(account.error().code, account.error().message);
  if (Status ok = ctx.store->set_disabled_sync(account->address(), false); !ok) return ok;
  ctx.io.out << "enabled " << account->address() << '\n';
  return {};
}

}  // namespace chapar::ctl
