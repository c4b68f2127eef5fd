// SPDX-License-Identifier: AGPL-3.0-or-later
#include "pop3d/command.hpp"

#include "common/text/ascii.hpp"

namespace chapar::pop3 {

const CommandSpec* find_command(std::string_view keyword) {
  for (const CommandSpec& spec : kCommands) {
    if (text::iequals(spec.name, keyword)) return &spec;
  }
  return nullptr;
}

CommandLine parse_command(std::string_view line) {
  CommandLine command;
  size_t space = line.find(' ');
  std::string_view keyword = line.substr(0, space);
  command.keyword = text::ascii_uppercase(keyword);
  if (space == std::string_view::npos) return command;

  std::string_view rest = line.substr(space + 1);
  const CommandSpec* spec = find_command(command.keyword);
  if (spec != nullptr && spec->raw_argument) {
    if (!rest.empty()) command.args.push_back(rest);
    return command;
  }
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  while (!rest.empty()) {
    size_t next = rest.find(' ');
    command.args.push_back(rest.substr(0, next));
    if (next == std::string_view::npos) break;
    rest = rest.substr(next + 1);
  }
  return command;
}

std::optional<uint32_t> parse_number(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  uint32_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint32_t>(c - '0');
  }
  return value;
}

}  // namespace chapar::pop3
