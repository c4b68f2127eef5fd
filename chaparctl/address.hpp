// SPDX-License-Identifier: AGPL-3.0-or-later
// Syntax checks for the names an administrator types: domains, account addresses and alias
// sources. They accept what the store keeps and reject, with a reason, what no mail client
// could use. Domains and addresses come back in the form the store keeps them (lower case
// domain; the local part as typed).
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace chapar::ctl {

// RFC 5321 §4.1.2 Domain: dot-separated labels of letters, digits and inner hyphens, each
// 1..63 octets, 253 octets in all (RFC 1035 §2.3.4). Non-ASCII names must be given as
// IDNA A-labels ("xn--..."). Returns the name in lower case.
Result<std::string> normalize_domain(std::string_view text);

// RFC 5321 §4.1.2 Dot-string local part of at most 64 octets (§4.5.3.1.1). '+' is refused
// because it separates the tag of a plus-address (user+tag@domain) from the account.
Status check_local_part(std::string_view local_part);

struct Address {
  std::string local_part;
  std::string domain;  // lower case
  std::string text() const { return local_part + "@" + domain; }
};

// "local@domain" for an account or an alias target.
Result<Address> parse_address(std::string_view text);

// An alias source: an address, or "@domain" for a catch-all (empty local part).
Result<Address> parse_alias_source(std::string_view text);

}  // namespace chapar::ctl
