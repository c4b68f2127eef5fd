// SPDX-License-Identifier: AGPL-3.0-or-later
// Pure parsers for SMTP command lines (RFC 5321 §4.1) and the ESMTP parameters of MAIL and
// RCPT: SIZE (RFC 1870), BODY (RFC 6152, RFC 3030), SMTPUTF8 (RFC 6531), AUTH (RFC 4954 §5),
// RET/ENVID/NOTIFY/ORCPT (RFC 3461), REQUIRETLS (RFC 8689). No I/O and no state: a failure
// comes back as the reply that refuses the command.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "smtpd/reply.hpp"

namespace chapar::smtp {

template <typename T>
using Parsed = std::variant<T, Rejection>;

// A command line split at the first space: "MAIL FROM:<a@b>" gives "MAIL" and "FROM:<a@b>".
struct CommandLine {
  std::string_view verb;
  std::string_view args;  // everything after the first space, possibly empty
};
CommandLine split_command(std::string_view line);

// RFC 5321 §4.1.2 Mailbox. The local part is kept in its canonical form (RFC 5321 §4.1.2:
// all quoted forms are equivalent): unquoted when it is a valid dot-string, otherwise quoted
// with the fewest backslashes. UTF-8 (RFC 6531 §3.3) is accepted here; whether it is allowed
// in a transaction is the caller's decision (see is_ascii).
struct Mailbox {
  std::string local_part;
  std::string domain;  // a domain name, or an address literal with its brackets

  std::string address() const { return domain.empty() ? local_part : local_part + "@" + domain; }
  bool is_ascii() const;
};

// Parses "local@domain" (no angle brackets).
Parsed<Mailbox> parse_mailbox(std::string_view text);

enum class Body { kUnspecified, k7Bit, k8BitMime, kBinaryMime };

struct MailParameters {
  std::optional<uint64_t> size;  // RFC 1870; UINT64_MAX when the number does not fit
  Body body = Body::kUnspecified;
  bool smtputf8 = false;
  bool requiretls = false;
  std::optional<std::string> auth;  // xtext-decoded AUTH= value, "<>" when unknown
  std::string ret;                  // "FULL", "HDRS" or empty
  std::string envid;                // xtext-decoded
};

struct MailCommand {
  std::optional<Mailbox> sender;  // empty: the null reverse-path "<>"
  MailParameters params;
};

struct RcptCommand {
  // A bare "<Postmaster>" (RFC 5321 §4.1.1.3) comes back with an empty domain.
  Mailbox recipient;
  std::string notify;  // "NEVER" or a comma list of SUCCESS,FAILURE,DELAY; empty if absent
  std::string orcpt;   // "addr-type;xtext" as given, empty if absent
};

// The argument of MAIL: "FROM:<reverse-path> [params]". A space after the colon and a path
// without angle brackets are tolerated, as Postfix does. Non-ASCII addresses are refused
// (550 5.6.7) unless the SMTPUTF8 parameter is present (RFC 6531 §3.5).
Parsed<MailCommand> parse_mail(std::string_view args);
// The argument of RCPT: "TO:<forward-path> [params]". A source route is accepted and dropped
// (RFC 5321 §4.1.1.3, Appendix C). Non-ASCII addresses are refused (553 5.6.7) unless the
// transaction declared SMTPUTF8.
Parsed<RcptCommand> parse_rcpt(std::string_view args, bool smtputf8);

// The argument of BDAT (RFC 3030 §2): "chunk-size [LAST]".
struct BdatCommand {
  uint64_t size = 0;
  bool last = false;
};
Parsed<BdatCommand> parse_bdat(std::string_view args);

// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF).
bool is_valid_utf8(std::string_view text);

}  // namespace chapar::smtp
