// SPDX-License-Identifier: AGPL-3.0-or-later
#include "smtpd/reply.hpp"

#include <fmt/format.h>

namespace chapar::smtp {

std::string format_reply(ReplyCode reply, std::string_view text) {
  if (reply.status.empty()) {
    return text.empty() ? fmt::format("{} \r\n", reply.code)
                        : fmt::format("{} {}\r\n", reply.code, text);
  }
  return fmt::format("{} {} {}\r\n", reply.code, reply.status, text);
}

std::string format_plain_reply(uint16_t code, std::string_view text) {
  return fmt::format("{} {}\r\n", code, text);
}

std::string format_multiline(uint16_t code, std::string_view status,
                             std::span<const std::string> lines) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    char separator = i + 1 == lines.size() ? ' ' : '-';
    if (status.empty()) {
      out += fmt::format("{}{}{}\r\n", code, separator, lines[i]);
    } else {
      out += fmt::format("{}{}{} {}\r\n", code, separator, status, lines[i]);
    }
  }
  return out;
}

}  // namespace chapar::smtp
