// SPDX-License-Identifier: AGPL-3.0-or-later
#include "smtpd/command_parser.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <vector>

#include "common/text/ascii.hpp"
#include "common/text/xtext.hpp"

namespace chapar::smtp {
namespace {

// RFC 5321 §4.5.3.1.3: a path is at most 256 octets; §4.5.3.1.2: a domain at most 255.
constexpr size_t kMaxPathLength = 256;
constexpr size_t kMaxDomainLength = 255;
// RFC 3461 §4.4: an ENVID of at most 100 characters.
constexpr size_t kMaxEnvidLength = 100;

bool is_alpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}
bool is_let_dig(unsigned char c) {
  return is_alpha(c) || is_digit(c);
}

// RFC 5322 §3.2.3 atext, plus UTF8-non-ascii (RFC 6531 §3.3).
bool is_atext(unsigned char c) {
  if (is_let_dig(c) || c >= 0x80) return true;
  return std::string_view("!#$%&'*+-/=?^_`{|}~").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

// RFC 5321 qtextSMTP, plus UTF8-non-ascii.
bool is_qtext(unsigned char c) {
  return (c >= 32 && c <= 126 && c != '"' && c != '\\') || c >= 0x80;
}

bool is_dot_string(std::string_view text) {
  if (text.empty() || text.front() == '.' || text.back() == '.') return false;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = text[i];
    if (c == '.') {
      if (text[i - 1] == '.') return false;
    } else if (!is_atext(c)) {
      return false;
    }
  }
  return true;
}

// sub-domain = Let-dig [Ldh-str], or a U-label (RFC 6531 §3.3), whose octets are checked
// for UTF-8 by the caller.
bool is_sub_domain(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  bool non_ascii = std::any_of(label.begin(), label.end(),
                               [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
  auto allowed = [&](unsigned char c) { return is_let_dig(c) || (non_ascii && c >= 0x80); };
  if (!allowed(label.front()) || !allowed(label.back())) return false;
  return std::all_of(label.begin(), label.end(),
                     [&](char c) { return allowed(static_cast<unsigned char>(c)) || c == '-'; });
}

bool is_domain(std::string_view domain) {
  if (domain.empty() || domain.size() > kMaxDomainLength) return false;
  size_t start = 0;
  for (;;) {
    size_t dot = domain.find('.', start);
    if (!is_sub_domain(domain.substr(start, dot - start))) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

// RFC 5321 §4.1.3, with the brackets.
bool is_address_literal(std::string_view literal) {
  if (literal.size() < 3 || literal.front() != '[' || literal.back() != ']') return false;
  std::string inner(literal.substr(1, literal.size() - 2));
  unsigned char buffer[16];
  if (inner.size() > 5 && text::iequals(std::string_view(inner).substr(0, 5), "IPv6:")) {
    return inet_pton(AF_INET6, inner.c_str() + 5, buffer) == 1;
  }
  size_t colon = inner.find(':');
  if (colon == std::string::npos) return inet_pton(AF_INET, inner.c_str(), buffer) == 1;
  // General-address-literal = Standardized-tag ":" 1*dcontent
  std::string_view tag = std::string_view(inner).substr(0, colon);
  std::string_view content = std::string_view(inner).substr(colon + 1);
  if (tag.empty() || content.empty() || !is_let_dig(tag.back())) return false;
  if (!std::all_of(tag.begin(), tag.end(), [](char c) { return is_let_dig(c) || c == '-'; })) {
    return false;
  }
  return std::all_of(content.begin(), content.end(), [](char c) {
    return c >= 33 && c <= 126 && c != '[' && c != '\\' && c != ']';
  });
}

std::string quote_local_part(std::string_view raw) {
  std::string out = "\"";
  for (char c : raw) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::optional<std::string> decode_xtext_value(std::string_view value) {
  auto decoded = text::xtext_decode(value);
  if (!decoded) return std::nullopt;
  return std::move(*decoded);
}

Rejection reject(ReplyCode code, std::string text) {
  return Rejection{code, std::move(text)};
}

// Finds the end of a bracketed path starting at text[0] == '<': the index of its '>', skipping
// over quoted strings (a quoted local part may hold '>').
std::optional<size_t> find_path_end(std::string_view text) {
  bool quoted = false;
  for (size_t i = 1; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == '>') {
      return i;
    }
  }
  return std::nullopt;
}

struct RawPath {
  std::string_view path;        // inside the brackets
  std::string_view parameters;  // after the path and its separating space(s)
};

// Splits "<path> params" (or a bare "path params", tolerated like Postfix does).
std::optional<RawPath> split_path(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  RawPath out;
  std::string_view rest;
  if (!text.empty() && text.front() == '<') {
    auto end = find_path_end(text);
    if (!end) return std::nullopt;
    out.path = text.substr(1, *end - 1);
    rest = text.substr(*end + 1);
  } else {
    size_t space = text.find(' ');
    out.path = text.substr(0, space);
    rest = space == std::string_view::npos ? std::string_view{} : text.substr(space);
    if (out.path.empty()) return std::nullopt;
  }
  if (!rest.empty() && rest.front() != ' ') return std::nullopt;
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  out.parameters = rest;
  return out;
}

// Drops a source route "@a,@b:" (RFC 5321 §4.1.2 A-d-l) and checks its syntax.
std::optional<std::string_view> strip_source_route(std::string_view path) {
  if (path.empty() || path.front() != '@') return path;
  size_t colon = path.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view route = path.substr(0, colon);
  size_t start = 0;
  for (;;) {
    size_t comma = route.find(',', start);
    std::string_view at_domain = route.substr(start, comma - start);
    if (at_domain.size() < 2 || at_domain.front() != '@') return std::nullopt;
    std::string_view domain = at_domain.substr(1);
    if (!is_domain(domain) && !is_address_literal(domain)) return std::nullopt;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return path.substr(colon + 1);
}

struct Parameter {
  std::string keyword;  // upper case
  std::optional<std::string_view> value;
};

// esmtp-param = esmtp-keyword ["=" esmtp-value]   (RFC 5321 §4.1.2)
std::optional<Parameter> parse_parameter(std::string_view text) {
  size_t eq = text.find('=');
  std::string_view keyword = text.substr(0, eq);
  if (keyword.empty() || !is_let_dig(keyword.front())) return std::nullopt;
  if (!std::all_of(keyword.begin(), keyword.end(),
                   [](char c) { return is_let_dig(c) || c == '-'; })) {
    return std::nullopt;
  }
  Parameter out{text::ascii_uppercase(keyword), std::nullopt};
  if (eq == std::string_view::npos) return out;
  std::string_view value = text.substr(eq + 1);
  // esmtp-value = 1*(%d33-60 / %d62-126), and UTF-8 under SMTPUTF8 (RFC 6531 §3.3).
  if (value.empty() || !std::all_of(value.begin(), value.end(), [](char c) {
        unsigned char u = c;
        return (u >= 33 && u <= 126 && u != '=') || u >= 0x80;
      })) {
    return std::nullopt;
  }
  out.value = value;
  return out;
}

// Splits parameters at spaces and calls `handle` for each; stops at the first rejection.
template <typename Handle>
std::optional<Rejection> for_each_parameter(std::string_view text, Handle handle) {
  std::vector<std::string> seen;
  while (!text.empty()) {
    size_t space = text.find(' ');
    std::string_view item = text.substr(0, space);
    text = space == std::string_view::npos ? std::string_view{} : text.substr(space + 1);
    if (item.empty()) continue;
    auto parameter = parse_parameter(item);
    if (!parameter) return reject(kSyntax501, "Syntax error in parameters");
    if (std::find(seen.begin(), seen.end(), parameter->keyword) != seen.end()) {
      // RFC 3461 §4.5: a parameter given twice is a syntax error.
      return reject(kSyntax501, "Duplicate parameter " + parameter->keyword);
    }
    seen.push_back(parameter->keyword);
    if (auto rejection = handle(*parameter)) return rejection;
  }
  return std::nullopt;
}

std::optional<Rejection> no_value(const Parameter& p) {
  if (p.value) return reject(kSyntax501, p.keyword + " takes no value");
  return std::nullopt;
}

std::optional<Rejection> needs_value(const Parameter& p) {
  if (!p.value) return reject(kSyntax501, p.keyword + " needs a value");
  return std::nullopt;
}

std::optional<Rejection> parse_mail_parameter(const Parameter& p, MailParameters& out) {
  const std::string& k = p.keyword;
  if (k == "SIZE") {
    if (auto r = needs_value(p)) return r;
    std::string_view v = *p.value;
    if (!std::all_of(v.begin(), v.end(), [](char c) { return is_digit(c); }) || v.size() > 20) {
      return reject(kSyntax501, "Bad SIZE value");
    }
    uint64_t size = 0;
    auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), size);
    out.size = ec == std::errc() ? size : std::numeric_limits<uint64_t>::max();
    return std::nullopt;
  }
  if (k == "BODY") {
    if (auto r = needs_value(p)) return r;
    std::string v = text::ascii_uppercase(*p.value);
    if (v == "7BIT") {
      out.body = Body::k7Bit;
    } else if (v == "8BITMIME") {
      out.body = Body::k8BitMime;
    } else if (v == "BINARYMIME") {
      out.body = Body::kBinaryMime;
    } else {
      return reject(kSyntax501, "Bad BODY value");
    }
    return std::nullopt;
  }
  if (k == "SMTPUTF8") {
    out.smtputf8 = true;
    return no_value(p);
  }
  if (k == "REQUIRETLS") {
    out.requiretls = true;
    return no_value(p);
  }
  if (k == "AUTH") {
    if (auto r = needs_value(p)) return r;
    // RFC 4954 §5: AUTH=<> or an xtext-encoded mailbox.
    auto decoded = decode_xtext_value(*p.value);
    if (!decoded) return reject(kSyntax501, "Bad AUTH value");
    if (*decoded != "<>") {
      auto mailbox = parse_mailbox(*decoded);
      if (std::holds_alternative<Rejection>(mailbox)) return reject(kSyntax501, "Bad AUTH value");
    }
    out.auth = std::move(*decoded);
    return std::nullopt;
  }
  if (k == "RET") {
    if (auto r = needs_value(p)) return r;
    std::string v = text::ascii_uppercase(*p.value);
    if (v != "FULL" && v != "HDRS") return reject(kSyntax501, "Bad RET value");
    out.ret = v;
    return std::nullopt;
  }
  if (k == "ENVID") {
    if (auto r = needs_value(p)) return r;
    auto decoded = decode_xtext_value(*p.value);
    // RFC 3461 §4.4: printable US-ASCII, at most 100 characters.
    if (!decoded || decoded->size() > kMaxEnvidLength ||
        !std::all_of(decoded->begin(), decoded->end(), [](char c) { return c >= 32 && c < 127; })) {
      return reject(kSyntax501, "Bad ENVID value");
    }
    out.envid = std::move(*decoded);
    return std::nullopt;
  }
  return reject(kUnknownParameter555, "Unsupported option: " + k);
}

std::optional<Rejection> parse_rcpt_parameter(const Parameter& p, RcptCommand& out) {
  const std::string& k = p.keyword;
  if (k == "NOTIFY") {
    if (auto r = needs_value(p)) return r;
    // RFC 3461 §4.1: "NEVER", or a list of SUCCESS, FAILURE and DELAY.
    std::string v = text::ascii_uppercase(*p.value);
    if (v == "NEVER") {
      out.notify = v;
      return std::nullopt;
    }
    std::vector<std::string_view> items;
    std::string_view rest = v;
    for (;;) {
      size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      if (item != "SUCCESS" && item != "FAILURE" && item != "DELAY") {
        return reject(kSyntax501, "Bad NOTIFY value");
      }
      if (std::find(items.begin(), items.end(), item) != items.end()) {
        return reject(kSyntax501, "Bad NOTIFY value");
      }
      items.push_back(item);
      if (comma == std::string_view::npos) break;
      rest = rest.substr(comma + 1);
    }
    out.notify = v;
    return std::nullopt;
  }
  if (k == "ORCPT") {
    if (auto r = needs_value(p)) return r;
    // RFC 3461 §4.2: addr-type ";" xtext
    std::string_view v = *p.value;
    size_t semicolon = v.find(';');
    if (semicolon == 0 || semicolon == std::string_view::npos || semicolon + 1 == v.size()) {
      return reject(kSyntax501, "Bad ORCPT value");
    }
    std::string_view type = v.substr(0, semicolon);
    if (!std::all_of(type.begin(), type.end(), [](char c) { return is_atext(c); })) {
      return reject(kSyntax501, "Bad ORCPT value");
    }
    // RFC 6533 §3 utf-8-addr-xtext may carry UTF-8; the rfc822 type is pure xtext.
    if (text::iequals(type, "rfc822") && !decode_xtext_value(v.substr(semicolon + 1))) {
      return reject(kSyntax501, "Bad ORCPT value");
    }
    out.orcpt = std::string(v);
    return std::nullopt;
  }
  return reject(kUnknownParameter555, "Unsupported option: " + k);
}

// Strips "FROM:" / "TO:" and whatever spaces follow.
std::optional<std::string_view> strip_keyword(std::string_view args, std::string_view keyword) {
  if (args.size() < keyword.size() || !text::iequals(args.substr(0, keyword.size()), keyword)) {
    return std::nullopt;
  }
  return args.substr(keyword.size());
}

}  // namespace

CommandLine split_command(std::string_view line) {
  size_t space = line.find(' ');
  if (space == std::string_view::npos) return CommandLine{line, {}};
  return CommandLine{line.substr(0, space), line.substr(space + 1)};
}

bool Mailbox::is_ascii() const {
  auto ascii = [](char c) { return static_cast<unsigned char>(c) < 0x80; };
  return std::all_of(local_part.begin(), local_part.end(), ascii) &&
         std::all_of(domain.begin(), domain.end(), ascii);
}

Parsed<Mailbox> parse_mailbox(std::string_view text) {
  if (text.size() > kMaxPathLength) return reject(kBadRecipientSyntax501, "Path too long");
  if (!is_valid_utf8(text)) return reject(kBadRecipientSyntax501, "Malformed UTF-8 in address");
  Mailbox out;
  size_t at = 0;
  if (!text.empty() && text.front() == '"') {
    // Quoted-string = DQUOTE *QcontentSMTP DQUOTE
    std::string raw;
    size_t i = 1;
    for (; i < text.size() && text[i] != '"'; ++i) {
      unsigned char c = text[i];
      if (c == '\\') {
        if (i + 1 >= text.size()) return reject(kBadRecipientSyntax501, "Bad address syntax");
        unsigned char next = text[++i];
        if (next < 32 || next > 126) return reject(kBadRecipientSyntax501, "Bad address syntax");
        raw += static_cast<char>(next);
      } else if (is_qtext(c)) {
        raw += static_cast<char>(c);
      } else {
        return reject(kBadRecipientSyntax501, "Bad address syntax");
      }
    }
    if (i >= text.size()) return reject(kBadRecipientSyntax501, "Bad address syntax");
    at = i + 1;
    out.local_part = is_dot_string(raw) ? raw : quote_local_part(raw);
  } else {
    at = text.find('@');
    if (at == std::string_view::npos || !is_dot_string(text.substr(0, at))) {
      return reject(kBadRecipientSyntax501, "Bad address syntax");
    }
    out.local_part = std::string(text.substr(0, at));
  }
  if (at >= text.size() || text[at] != '@') {
    return reject(kBadRecipientSyntax501, "Bad address syntax");
  }
  std::string_view domain = text.substr(at + 1);
  if (!is_domain(domain) && !is_address_literal(domain)) {
    return reject(kBadRecipientSyntax501, "Bad address syntax");
  }
  out.domain = std::string(domain);
  return out;
}

Parsed<MailCommand> parse_mail(std::string_view args) {
  auto rest = strip_keyword(args, "FROM:");
  if (!rest) return reject(kSyntax501, "Syntax: MAIL FROM:<address>");
  auto raw = split_path(*rest);
  if (!raw) return reject(kBadSenderSyntax501, "Bad sender address syntax");
  MailCommand out;
  auto rejection = for_each_parameter(
      raw->parameters, [&](const Parameter& p) { return parse_mail_parameter(p, out.params); });
  if (rejection) return *rejection;
  if (raw->path.empty()) return out;
  auto path = strip_source_route(raw->path);
  if (!path) return reject(kBadSenderSyntax501, "Bad sender address syntax");
  auto mailbox = parse_mailbox(*path);
  if (auto* r = std::get_if<Rejection>(&mailbox)) {
    r->reply = kBadSenderSyntax501;
    return *r;
  }
  out.sender = std::move(std::get<Mailbox>(mailbox));
  if (!out.params.smtputf8 && !out.sender->is_ascii()) {
    return reject(kNonAsciiSender550, "Non-ASCII sender address requires SMTPUTF8");
  }
  return out;
}

Parsed<RcptCommand> parse_rcpt(std::string_view args, bool smtputf8) {
  auto rest = strip_keyword(args, "TO:");
  if (!rest) return reject(kSyntax501, "Syntax: RCPT TO:<address>");
  auto raw = split_path(*rest);
  if (!raw || raw->path.empty())
    return reject(kBadRecipientSyntax501, "Bad recipient address syntax");
  RcptCommand out;
  auto rejection = for_each_parameter(
      raw->parameters, [&](const Parameter& p) { return parse_rcpt_parameter(p, out); });
  if (rejection) return *rejection;
  // RFC 5321 §4.5.1: "<Postmaster>" without a domain must be accepted.
  if (text::iequals(raw->path, "postmaster")) {
    out.recipient.local_part = "postmaster";
    return out;
  }
  auto path = strip_source_route(raw->path);
  if (!path) return reject(kBadRecipientSyntax501, "Bad recipient address syntax");
  auto mailbox = parse_mailbox(*path);
  if (auto* r = std::get_if<Rejection>(&mailbox)) return *r;
  out.recipient = std::move(std::get<Mailbox>(mailbox));
  if (!smtputf8 && !out.recipient.is_ascii()) {
    return reject(kNonAsciiRecipient553, "Non-ASCII recipient address requires SMTPUTF8");
  }
  return out;
}

Parsed<BdatCommand> parse_bdat(std::string_view args) {
  CommandLine words = split_command(args);
  std::string_view size = words.verb;
  BdatCommand out;
  bool digits = !size.empty() && size.size() <= 20 &&
                std::all_of(size.begin(), size.end(), [](char c) { return is_digit(c); });
  auto [ptr, ec] = std::from_chars(size.data(), size.data() + size.size(), out.size);
  if (!digits || ec != std::errc()) return reject(kSyntax501, "Syntax: BDAT size [LAST]");
  if (words.args.empty()) return out;
  if (!text::iequals(words.args, "LAST")) return reject(kSyntax501, "Syntax: BDAT size [LAST]");
  out.last = true;
  return out;
}

bool is_valid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = text[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    uint32_t code;
    if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
      code = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      code = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      unsigned char next = text[i + k];
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    if ((length == 3 && code < 0x800) || (length == 4 && code < 0x10000) || code > 0x10FFFF ||
        (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

}  // namespace chapar::smtp
