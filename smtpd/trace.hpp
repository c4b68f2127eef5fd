// SPDX-License-Identifier: AGPL-3.0-or-later
// The trace header fields a receiving server puts at the top of every message it accepts:
// Return-Path and Received (RFC 5321 §4.4), with the protocol names of RFC 3848 and
// RFC 6531 §3.7.3. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/net/session.hpp"

namespace chapar::smtp {

struct ProtocolFlags {
  bool extended = false;       // EHLO rather than HELO
  bool tls = false;            // the session is encrypted
  bool authenticated = false;  // AUTH succeeded
  bool smtputf8 = false;       // MAIL carried SMTPUTF8
};

// "SMTP", "ESMTP", "ESMTPS", "ESMTPA", "ESMTPSA", "UTF8SMTP", ..., "UTF8SMTPSA".
std::string protocol_name(ProtocolFlags flags);

struct TraceInfo {
  std::string hostname;        // this server
  std::string helo;            // the EHLO/HELO argument
  std::string client_address;  // the IP address of the connection
  std::optional<net::TlsInfo> tls;
  std::string protocol;                  // protocol_name()
  std::string reverse_path;              // the MAIL FROM address, empty for <>
  std::optional<std::string> recipient;  // the FOR clause: only with exactly one recipient
  int64_t time = 0;                      // seconds since the epoch
};

// "Return-Path: <...>\r\nReceived: from ...\r\n", folded with tabs, the date in UTC.
std::string trace_header_fields(const TraceInfo& info);

// The address literal for an IP address (RFC 5321 §4.1.3): "[192.0.2.1]", "[IPv6:2001:db8::1]".
std::string address_literal(std::string_view ip);

}  // namespace chapar::smtp
