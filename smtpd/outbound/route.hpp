// SPDX-License-Identifier: AGPL-3.0-or-later
// Where mail for a domain goes (RFC 5321 §5.1): the MX hosts by preference, equal
// preferences in random order; the domain itself when it has no MX records (the implicit
// MX); nowhere when it publishes a null MX (RFC 7505) or does not exist. Pure.
#pragma once

#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/dns/resolver.hpp"
#include "common/result.hpp"
#include "smtpd/outbound/client_session.hpp"

namespace chapar::smtp::outbound {

struct Route {
  std::vector<std::string> hosts;          // to try in this order
  std::optional<RecipientResult> failure;  // set instead of hosts when mail cannot go there
};

// `self` is this server's host name: an MX list that names it stops before it (§5.1: hosts
// at our own preference or worse would send the mail back here).
Route plan_route(std::string_view domain, const Result<dns::MxAnswer>& answer,
                 std::string_view self, std::mt19937& random);

// The domain of an address (after the last '@'), in lower case.
std::string address_domain(std::string_view address);

}  // namespace chapar::smtp::outbound
