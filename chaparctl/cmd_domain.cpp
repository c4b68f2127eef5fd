// SPDX-License-Identifier: AGPL-3.0-or-later
// chaparctl domain add|list|remove.
#include <fmt/format.h>

#include "chaparctl/handlers.hpp"
#include "chaparctl/lookup.hpp"

namespace chapar::ctl {

Status cmd_domain_add(Context& ctx) {
  auto domain = normalize_domain(ctx.operand(0));
  if (!domain) return fail(domain.error().code, domain.error().message);
  auto hosted = ctx.store->is_local_domain(*domain);
  if (!hosted) return fail(hosted.error().code, hosted.error().message);
  if (*hosted) return fail(Errc::kAlreadyExists, fmt::format("domain {} exists", *domain));
  auto added = ctx.store->add_domain_sync(*domain);
  if (!added) return fail(added.error().code, added.error().message);
  ctx.io.out << "added domain " << *domain << '\n';
  return {};
}

Status cmd_domain_list(Context& ctx) {
  auto domains = ctx.store->list_domains();
  if (!domains) return fail(domains.error().code, domains.error().message);
  for (const store::Domain& domain : *domains) ctx.io.out << domain.name << '\n';
  return {};
}

Status cmd_domain_remove(Context& ctx) {
  auto domain = hosted_domain(*ctx.store, ctx.operand(0));
  if (!domain) return fail(domain.error().code, domain.error().message);
  auto accounts = ctx.store->list_accounts(*domain);
  if (!accounts) return fail(accounts.error().code, accounts.error().message);
  if (!accounts->empty()) {
    return fail(Errc::kInvalidArgument,
                fmt::format("domain {} still has {} account(s); remove them first", *domain,
                            accounts->size()));
  }
  if (Status removed = ctx.store->remove_domain_sync(*domain); !removed) return removed;
  ctx.io.out << "removed domain " << *domain << '\n';
  return {};
}

}  // namespace chapar::ctl
