// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/address.hpp"

#include <fmt/format.h>

#include "common/log.hpp"

namespace chapar::ctl {
namespace {

constexpr size_t kMaxDomainLength = 253;  // RFC 1035 §2.3.4, without the trailing dot
constexpr size_t kMaxLabelLength = 63;
constexpr size_t kMaxLocalPartLength = 64;  // RFC 5321 §4.5.3.1.1

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// RFC 5322 §3.2.3 atext.
bool is_atext(char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  constexpr std::string_view kSpecials = "!#$%&'*-/=?^_`{|}~+";
  return kSpecials.find(c) != std::string_view::npos;
}

// Shows user input inside an error message without letting control characters through.
std::string quoted(std::string_view text) {
  std::string out;
  log::append_field(out, "x", text);
  return out.substr(3);
}

Status check_label(std::string_view label, std::string_view domain) {
  if (label.empty())
    return fail(Errc::kInvalidArgument, fmt::format("{}: empty label in domain", quoted(domain)));
  if (label.size() > kMaxLabelLength) {
    return fail(Errc::kInvalidArgument, fmt::format("{}: label longer than {} characters",
                                                    quoted(domain), kMaxLabelLength));
  }
  for (char c : label) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("{}: non-ASCII domains must be given in IDNA form (xn--...)",
                              quoted(domain)));
    }
    if (!is_alpha(c) && !is_digit(c) && c != '-') {
      return fail(Errc::kInvalidArgument,
                  fmt::format("{}: invalid character in domain", quoted(domain)));
    }
  }
  if (label.front() == '-' || label.back() == '-') {
    return fail(Errc::kInvalidArgument,
                fmt::format("{}: a label may not begin or end with '-'", quoted(domain)));
  }
  return {};
}

}  // namespace

Result<std::string> normalize_domain(std::string_view text) {
  if (text.empty()) return fail(Errc::kInvalidArgument, "empty domain");
  if (text.size() > kMaxDomainLength) {
    return fail(Errc::kInvalidArgument,
                fmt::format("domain longer than {} characters", kMaxDomainLength));
  }
  size_t start = 0;
  while (true) {
    size_t dot = text.find('.', start);
    std::string_view label = text.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (Status ok = check_label(label, text); !ok) return fail(ok.error().code, ok.error().message);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  // RFC 3696 §2: a top-level label is never all-numeric; this also refuses IP addresses.
  std::string_view last =
      text.substr(text.rfind('.') == std::string_view::npos ? 0 : text.rfind('.') + 1);
  bool numeric = true;
  for (char c : last) numeric = numeric && is_digit(c);
  if (numeric) {
    return fail(Errc::kInvalidArgument,
                fmt::format("{}: not a domain name (the last label is numeric)", quoted(text)));
  }
  std::string lower(text);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return lower;
}

Status check_local_part(std::string_view local_part) {
  if (local_part.empty()) return fail(Errc::kInvalidArgument, "empty local part");
  if (local_part.size() > kMaxLocalPartLength) {
    return fail(Errc::kInvalidArgument, fmt::format("{}: local part longer than {} characters",
                                                    quoted(local_part), kMaxLocalPartLength));
  }
  if (local_part.front() == '.' || local_part.back() == '.' ||
      local_part.find("..") != std::string_view::npos) {
    return fail(Errc::kInvalidArgument,
                fmt::format("{}: misplaced '.' in local part", quoted(local_part)));
  }
  for (char c : local_part) {
    if (c == '+') {
      return fail(Errc::kInvalidArgument,
                  fmt::format("{}: '+' is reserved for plus-addressing (user+tag@domain)",
                              quoted(local_part)));
    }
    if (c != '.' && !is_atext(c)) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("{}: invalid character in local part", quoted(local_part)));
    }
  }
  return {};
}

Result<Address> parse_address(std::string_view text) {
  size_t at = text.rfind('@');
  if (at == std::string_view::npos) {
    return fail(Errc::kInvalidArgument,
                fmt::format("{}: not an address (expected local@domain)", quoted(text)));
  }
  std::string_view local = text.substr(0, at);
  if (local.empty()) {
    return fail(Errc::kInvalidArgument,
                fmt::format("{}: not an address (empty local part)", quoted(text)));
  }
  if (Status ok = check_local_part(local); !ok) return fail(ok.error().code, ok.error().message);
  auto domain = normalize_domain(text.substr(at + 1));
  if (!domain) return fail(domain.error().code, domain.error().message);
  return Address{std::string(local), std::move(*domain)};
}

Result<Address> parse_alias_source(std::string_view text) {
  if (!text.empty() && text.front() == '@') {
    auto domain = normalize_domain(text.substr(1));
    if (!domain) return fail(domain.error().code, domain.error().message);
    return Address{"", std::move(*domain)};
  }
  return parse_address(text);
}

}  // namespace chapar::ctl
