// SPDX-License-Identifier: AGPL-3.0-or-later
// Delivery status notifications (RFC 3464) in a multipart/report (RFC 6522, formerly RFC
// 3462): a human-readable part, the message/delivery-status part with one block per
// recipient, and the original message (RET=FULL) or its header (RET=HDRS). Addresses in
// UTF-8 make it a message/global-delivery-status report (RFC 6533). Pure: the caller gives
// the tokens (boundary, Message-ID) and a reader for the original.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "libmailstore/spool.hpp"
#include "smtpd/outbound/client_session.hpp"

namespace chapar::smtp::outbound {

enum class DsnAction { kFailed, kDelayed, kRelayed };

struct DsnRecipient {
  std::string address;  // Final-Recipient
  std::string orcpt;    // the ORCPT parameter as received ("rfc822;xtext"), or empty
  DsnAction action = DsnAction::kFailed;
  std::string status;      // RFC 3463, "5.1.1"
  std::string reply;       // the remote server's reply, or the local reason
  bool remote = false;     // `reply` came from `remote_mta` (Diagnostic-Code: smtp; ...)
  std::string remote_mta;  // the host that answered, empty when none did
};

struct DsnReport {
  std::string reporting_mta;  // this server's host name
  std::string sender;         // the envelope sender: where the report goes
  std::string envid;          // ENVID of the original (RFC 3461 §4.4), decoded
  int64_t arrival_date = 0;   // when the original was received
  int64_t now = 0;
  int64_t retry_until = 0;               // for delayed recipients: when delivery stops being tried
  std::vector<DsnRecipient> recipients;  // all of one action
  bool return_full = false;              // the whole original rather than its header
  std::string boundary;                  // unique; not found in the original
  std::string message_id;                // "<token@host>"
};

// The DSN as a message (CRLF lines), without a Return-Path. The original is read through
// `original` (as it was sent: MessageSource).
Status compose_dsn(const DsnReport& report, const MessageSource& original, store::Spool& out);

// Reads the header block (up to and including the blank line) of a message, at most
// `limit` octets of it.
Result<std::string> read_header_block(const MessageSource& message, size_t limit);

// The value of the first header field `name` in a header block, unfolded, or empty.
std::string header_value(std::string_view header, std::string_view name);

}  // namespace chapar::smtp::outbound
