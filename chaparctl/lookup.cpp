// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/lookup.hpp"

#include <fmt/format.h>

namespace chapar::ctl {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Result<std::string> hosted_domain(store::Store& store, std::string_view text) {
  auto domain = normalize_domain(text);
  if (!domain) return domain;
  auto hosted = store.is_local_domain(*domain);
  if (!hosted) return fail(hosted.error().code, hosted.error().message);
  if (!*hosted) {
    return fail(Errc::kNotFound, fmt::format("unknown domain {} (add it with 'chaparctl domain "
                                             "add {}')",
                                             *domain, *domain));
  }
  return domain;
}

Result<Address> address_in_hosted_domain(store::Store& store, std::string_view text) {
  auto address = parse_address(text);
  if (!address) return address;
  auto domain = hosted_domain(store, address->domain);
  if (!domain) return fail(domain.error().code, domain.error().message);
  return address;
}

Result<store::Account> existing_account(store::Store& store, std::string_view text) {
  auto address = parse_address(text);
  if (!address) return fail(address.error().code, address.error().message);
  auto account = store.find_account(address->text());
  if (!account && account.error().code == Errc::kNotFound) {
    return fail(Errc::kNotFound, fmt::format("no account {}", address->text()));
  }
  return account;
}

Result<std::optional<store::Alias>> find_alias(store::Store& store, const Address& source) {
  auto aliases = store.list_aliases(source.domain);
  if (!aliases) return fail(aliases.error().code, aliases.error().message);
  const std::string wanted = lower(source.text());
  for (store::Alias& alias : *aliases) {
    if (lower(alias.source) == wanted) return std::optional<store::Alias>(std::move(alias));
  }
  return std::optional<store::Alias>();
}

}  // namespace chapar::ctl
