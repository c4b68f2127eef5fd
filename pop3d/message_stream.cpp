// SPDX-License-Identifier: AGPL-3.0-or-later
#include "pop3d/message_stream.hpp"

namespace chapar::pop3 {

MessageStream::MessageStream(std::optional<uint32_t> body_lines) : remaining_(body_lines) {}

bool MessageStream::feed(std::string_view stored, std::string& out) {
  if (complete_) return false;
  size_t pos = 0;
  while (pos < stored.size()) {
    if (at_line_start_) {
      // RFC 1939 §3: a line beginning with the termination octet is byte-stuffed. A bare LF
      // counts as a line end here too, since some clients split lines on it.
      if (stored[pos] == '.') out.push_back('.');
      at_line_start_ = false;
      line_blank_ = true;
    }
    size_t newline = stored.find('\n', pos);
    size_t end = newline == std::string_view::npos ? stored.size() : newline + 1;
    std::string_view piece = stored.substr(pos, end - pos);
    if (line_blank_ && piece.find_first_not_of("\r\n") != std::string_view::npos) {
      line_blank_ = false;
    }
    out.append(piece);
    pos = end;
    if (newline != std::string_view::npos) {
      end_line();
      if (complete_) return false;
    }
  }
  return true;
}

void MessageStream::end_line() {
  at_line_start_ = true;
  if (!remaining_) return;
  if (in_header_) {
    // RFC 1939 §7: TOP sends the header, the blank line separating it from the body, then
    // the first n lines of the body.
    if (line_blank_) {
      in_header_ = false;
      if (*remaining_ == 0) complete_ = true;
    }
    return;
  }
  if (--*remaining_ == 0) complete_ = true;
}

void MessageStream::finish(std::string& out) {
  if (!at_line_start_) out.append("\r\n");
  out.append(".\r\n");
}

}  // namespace chapar::pop3
