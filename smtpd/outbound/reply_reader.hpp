// SPDX-License-Identifier: AGPL-3.0-or-later
// The client's view of SMTP replies: a resumable reader that turns bytes from the server
// into whole replies (RFC 5321 §4.2, multi-line replies §4.2.1), and the EHLO keywords a
// client acts on (RFC 5321 §4.1.1.1). Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace chapar::smtp::outbound {

struct ServerReply {
  int code = 0;                    // 200..599
  std::string enhanced;            // RFC 3463 code of the first line ("5.1.1"), when present
  std::vector<std::string> lines;  // the text of each line, without code and separator

  int kind() const { return code / 100; }  // 2, 3, 4 or 5
  // The whole reply on one line, as it goes into logs and DSNs: "550 5.1.1 text more".
  std::string text() const;
  // The enhanced code, or one made from the class ("4.0.0") when the server sent none.
  std::string status() const;
};

struct ReplyLimits {
  size_t max_line_length = 4096;  // RFC 5321 §4.5.3.1.5 allows 512; servers write longer
  size_t max_lines = 500;         // a long EHLO reply has a few dozen
};

class ReplyReader {
 public:
  explicit ReplyReader(ReplyLimits limits = {}) : limits_(limits) {}

  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete reply; nullopt while one is incomplete. A malformed reply (no code,
  // codes that change within a reply, a line beyond the limits) is an error, after which
  // the connection is of no further use.
  std::optional<Result<ServerReply>> next();
  // Input received but not yet returned as part of a reply.
  size_t buffered() const { return buffer_.size() - consumed_; }
  // Forgets unread input (RFC 3207 §4.2: nothing read before TLS is trusted after it).
  void clear();

 private:
  ReplyLimits limits_;
  std::string buffer_;
  size_t consumed_ = 0;
  ServerReply partial_;
  bool in_reply_ = false;
};

// What the server said it supports in its EHLO reply.
struct Capabilities {
  bool starttls = false;               // RFC 3207
  bool pipelining = false;             // RFC 2920
  bool eight_bit_mime = false;         // RFC 6152
  bool smtputf8 = false;               // RFC 6531
  bool dsn = false;                    // RFC 3461
  bool requiretls = false;             // RFC 8689
  bool enhanced_status_codes = false;  // RFC 2034
  std::optional<uint64_t> size;        // RFC 1870; 0 means no fixed limit
  std::vector<std::string> auth;       // SASL mechanisms, upper case (RFC 4954)

  bool offers_auth(std::string_view mechanism) const;
};

// The first line is the server's name and greeting; each further line is one keyword with
// its parameters. Unknown keywords are ignored.
Capabilities parse_capabilities(const ServerReply& ehlo);

}  // namespace chapar::smtp::outbound
