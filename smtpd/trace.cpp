// SPDX-License-Identifier: AGPL-3.0-or-later
#include "smtpd/trace.hpp"

#include <fmt/format.h>

#include "common/text/date.hpp"

namespace chapar::smtp {

std::string protocol_name(ProtocolFlags flags) {
  if (!flags.extended) return "SMTP";
  // RFC 3848 §2: ESMTPS with TLS, ESMTPA with AUTH, ESMTPSA with both; RFC 6531 §3.7.3:
  // the UTF8SMTP family when SMTPUTF8 was used.
  std::string name = flags.smtputf8 ? "UTF8SMTP" : "ESMTP";
  if (flags.tls) name += 'S';
  if (flags.authenticated) name += 'A';
  return name;
}

std::string address_literal(std::string_view ip) {
  if (ip.find(':') != std::string_view::npos) return fmt::format("[IPv6:{}]", ip);
  return fmt::format("[{}]", ip);
}

std::string trace_header_fields(const TraceInfo& info) {
  std::string out = fmt::format("Return-Path: <{}>\r\n", info.reverse_path);
  // RFC 5321 §4.4: FROM with the EHLO name and, from the connection, the address literal.
  out += fmt::format("Received: from {} ({})\r\n", info.helo, address_literal(info.client_address));
  if (info.tls) {
    out += fmt::format("\t(using {} with cipher {} ({} bits))\r\n", info.tls->version,
                       info.tls->cipher, info.tls->bits);
  }
  out += fmt::format("\tby {} (Chapar) with {}", info.hostname, info.protocol);
  // RFC 5321 §4.4: a FOR clause names exactly one path, so it is left out for several.
  if (info.recipient) out += fmt::format("\r\n\tfor <{}>", *info.recipient);
  out += fmt::format(";\r\n\t{}\r\n", text::format_rfc5322_date(info.time));
  return out;
}

}  // namespace chapar::smtp
