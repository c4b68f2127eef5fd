// SPDX-License-Identifier: AGPL-3.0-or-later
// The body of a RETR or TOP answer, produced from the stored message piece by piece: the
// stored octets unchanged except for byte-stuffing (RFC 1939 §3), the header and at most N
// body lines for TOP (RFC 1939 §7), and the terminating ".". Pure: chunks in, bytes out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chapar::pop3 {

class MessageStream {
 public:
  // `body_lines`: for TOP, how many lines of the body follow the header; nullopt for RETR.
  explicit MessageStream(std::optional<uint32_t> body_lines = std::nullopt);

  // Appends the transformation of the next stored octets to `out`. Returns false once TOP has
  // sent all it should; the caller then stops reading and calls finish().
  bool feed(std::string_view stored, std::string& out);
  // Ends the answer: a CRLF when the message did not end with one, then ".CRLF".
  void finish(std::string& out);

  bool complete() const { return complete_; }

 private:
  void end_line();

  std::optional<uint32_t> remaining_;
  bool at_line_start_ = true;
  bool line_blank_ = true;  // the current line holds only CR so far
  bool in_header_ = true;
  bool complete_ = false;  // TOP reached its limit
};

}  // namespace chapar::pop3
