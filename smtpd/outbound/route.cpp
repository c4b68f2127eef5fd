// SPDX-License-Identifier: AGPL-3.0-or-later
#include "smtpd/outbound/route.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/text/ascii.hpp"

namespace chapar::smtp::outbound {

std::string address_domain(std::string_view address) {
  size_t at = address.rfind('@');
  std::string_view domain = at == std::string_view::npos ? address : address.substr(at + 1);
  // An address literal ("[192.0.2.1]") is its own destination.
  if (domain.size() > 2 && domain.front() == '[' && domain.back() == ']') {
    domain = domain.substr(1, domain.size() - 2);
    if (text::istarts_with(domain, "IPv6:")) domain.remove_prefix(5);
  }
  return text::ascii_lowercase(domain);
}

Route plan_route(std::string_view domain, const Result<dns::MxAnswer>& answer,
                 std::string_view self, std::mt19937& random) {
  Route route;
  if (!answer) {
    if (answer.error().code == Errc::kNotFound) {
      route.failure = RecipientResult{
          Outcome::kPermanent, fmt::format("domain {} does not exist", domain), "5.1.2", false};
    } else {
      route.failure = RecipientResult{
          Outcome::kTemporary,
          fmt::format("cannot look up the mail servers of {}: {}", domain, answer.error().message),
          "4.4.3", false};
    }
    return route;
  }
  if (answer->null_mx) {
    // RFC 7505 §4.1: 556 with 5.1.10, at once and for good.
    route.failure = RecipientResult{
        Outcome::kPermanent, fmt::format("556 5.1.10 domain {} accepts no mail (null MX)", domain),
        "5.1.10", false};
    return route;
  }
  if (answer->records.empty()) {
    route.hosts.emplace_back(domain);  // RFC 5321 §5.1: the implicit MX
    return route;
  }
  std::vector<dns::MxRecord> records = answer->records;
  std::stable_sort(records.begin(), records.end(),
                   [](const auto& a, const auto& b) { return a.preference < b.preference; });
  // RFC 5321 §5.1: equal preferences are tried in random order, to spread the load.
  for (size_t start = 0; start < records.size();) {
    size_t end = start;
    while (end < records.size() && records[end].preference == records[start].preference) ++end;
    std::shuffle(records.begin() + static_cast<std::ptrdiff_t>(start),
                 records.begin() + static_cast<std::ptrdiff_t>(end), random);
    start = end;
  }
  for (const dns::MxRecord& record : records) {
    std::string_view host = record.host;
    while (!host.empty() && host.back() == '.') host.remove_suffix(1);
    if (!self.empty() && text::iequals(host, self)) break;
    if (std::none_of(route.hosts.begin(), route.hosts.end(),
                     [&](const std::string& h) { return text::iequals(h, host); })) {
      route.hosts.emplace_back(host);
    }
  }
  if (route.hosts.empty()) {
    route.failure = RecipientResult{
        Outcome::kPermanent,
        fmt::format("mail for {} loops back to myself ({} is its best MX host)", domain, self),
        "5.4.6", false};
  }
  return route;
}

}  // namespace chapar::smtp::outbound
