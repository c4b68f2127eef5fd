// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/log.hpp"

#include <unistd.h>

#include <atomic>

namespace chapar::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
  }
  return "info";
}

bool needs_quoting(std::string_view value) {
  if (value.empty()) return true;
  for (unsigned char c : value) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7f) return true;
  }
  return false;
}

}  // namespace

void set_level(Level level) {
  g_level = level;
}
Level level() {
  return g_level;
}

bool parse_level(std::string_view text, Level& out) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarning, Level::kError}) {
    if (text == level_name(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

void append_field(std::string& line, std::string_view key, std::string_view value) {
  line += ' ';
  line += key;
  line += '=';
  if (!needs_quoting(value)) {
    line += value;
    return;
  }
  line += '"';
  for (unsigned char c : value) {
    if (c == '"' || c == '\\') {
      line += '\\';
      line += static_cast<char>(c);
    } else if (c < ' ' || c == 0x7f) {
      line += fmt::format("\\x{:02x}", c);
    } else {
      line += static_cast<char>(c);
    }
  }
  line += '"';
}

Logger::Logger(std::initializer_list<Field> fields) {
  for (const Field& f : fields) append_field(context_, f.key, f.value);
}

Logger Logger::with(std::initializer_list<Field> fields) const {
  Logger child = *this;
  for (const Field& f : fields) append_field(child.context_, f.key, f.value);
  return child;
}

void Logger::write(Level lvl, std::string_view event, std::initializer_list<Field> fields) const {
  if (lvl < g_level.load(std::memory_order_relaxed)) return;
  std::string line = "level=";
  line += level_name(lvl);
  append_field(line, "event", event);
  line += context_;
  for (const Field& f : fields) append_field(line, f.key, f.value);
  line += '\n';
  // One write(2) per line keeps lines from different threads and processes whole.
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace chapar::log
