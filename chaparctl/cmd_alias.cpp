// SPDX-License-Identifier: AGPL-3.0-or-later
// chaparctl alias add|list|remove.
#include <fmt/format.h>

#include "chaparctl/handlers.hpp"
#include "chaparctl/lookup.hpp"

namespace chapar::ctl {

Status cmd_alias_add(Context& ctx) {
  auto source = parse_alias_source(ctx.operand(0));
  if (!source) return fail(source.error().code, source.error().message);
  if (auto domain = hosted_domain(*ctx.store, source->domain); !domain) {
    return fail(domain.error().code, domain.error().message);
  }
  auto target = existing_account(*ctx.store, ctx.operand(1));
  if (!target) {
    if (target.error().code == Errc::kNotFound) {
      return fail(Errc::kNotFound,
                  fmt::format("{} (an alias leads to an account)", target.error().message));
    }
    return fail(target.error().code, target.error().message);
  }
  if (!source->local_part.empty()) {
    auto account = ctx.store->find_account(source->text());
    if (account) {
      return fail(Errc::kAlreadyExists, fmt::format("{} is an account", account->address()));
    }
  }
  auto existing = find_alias(*ctx.store, *source);
  if (!existing) return fail(existing.error().code, existing.error().message);
  if (*existing) {
    return fail(Errc::kAlreadyExists,
                fmt::format("alias {} exists (to {})", (*existing)->source, (*existing)->target));
  }
  if (Status ok = ctx.store->add_alias_sync(source->text(), target->address()); !ok) return ok;
  ctx.io.out << "added alias " << source->text() << " -> " << target->address() << '\n';
  return {};
}

Status cmd_alias_list(Context& ctx) {
  std::string domain;
  if (!ctx.operand(0).empty()) {
    auto hosted = hosted_domain(*ctx.store, ctx.operand(0));
    if (!hosted) return fail(hosted.error().code, hosted.error().message);
    domain = std::move(*hosted);
  }
  auto aliases = ctx.store->list_aliases(domain);
  if (!aliases) return fail(aliases.error().code, aliases.error().message);
  for (const store::Alias& alias : *aliases) {
    ctx.io.out << alias.source << " -> " << alias.target << '\n';
  }
  return {};
}

Status cmd_alias_remove(Context& ctx) {
  auto source = parse_alias_source(ctx.operand(0));
  if (!source) return fail(source.error().code, source.error().message);
  auto existing = find_alias(*ctx.store, *source);
  if (!existing) return fail(existing.error().code, existing.error().message);
  if (!*existing) return fail(Errc::kNotFound, fmt::format("no alias {}", source->text()));
  if (Status ok = ctx.store->remove_alias_sync((*existing)->source); !ok) return ok;
  ctx.io.out << "removed alias " << (*existing)->source << '\n';
  return {};
}

}  // namespace chapar::ctl
