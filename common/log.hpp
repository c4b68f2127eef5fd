// SPDX-License-Identifier: AGPL-3.0-or-later
// One line per event on stderr: `level=info event=auth_failed conn=1f ip=192.0.2.1 user=bob`.
// Values with spaces, quotes, '=' or control characters are quoted and escaped, so every line
// splits unambiguously into key=value pairs (and fail2ban can match it). Never log a
// password, an AUTH payload or message content.
#pragma once

#include <concepts>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

#include <fmt/format.h>

namespace chapar::log {

enum class Level { kDebug, kInfo, kWarning, kError };

// Lines below this level are dropped. The default is kInfo.
void set_level(Level level);
Level level();
// Parses "debug", "info", "warning", "error".
bool parse_level(std::string_view text, Level& out);

struct Field {
  template <typename T>
  requires std::convertible_to<T, std::string_view> Field(std::string_view k, const T& v)
      : key(k), value(std::string_view(v)) {}
  template <typename T>
  requires(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) Field(std::string_view k, T v)
      : key(k), value(fmt::to_string(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v ? "yes" : "no") {}

  std::string_view key;
  std::string value;
};

// Appends ` key=value` to `line`, quoting the value when needed.
void append_field(std::string& line, std::string_view key, std::string_view value);

class Logger {
 public:
  Logger() = default;
  // A logger whose lines all carry `fields` after the event name (e.g. conn=…).
  explicit Logger(std::initializer_list<Field> fields);

  // A child logger carrying this logger's fields plus `fields`.
  Logger with(std::initializer_list<Field> fields) const;

  void write(Level level, std::string_view event, std::initializer_list<Field> fields) const;
  void debug(std::string_view event, std::initializer_list<Field> fields = {}) const {
    write(Level::kDebug, event, fields);
  }
  void info(std::string_view event, std::initializer_list<Field> fields = {}) const {
    write(Level::kInfo, event, fields);
  }
  void warning(std::string_view event, std::initializer_list<Field> fields = {}) const {
    write(Level::kWarning, event, fields);
  }
  void error(std::string_view event, std::initializer_list<Field> fields = {}) const {
    write(Level::kError, event, fields);
  }

 private:
  std::string context_;  // pre-rendered " key=value" pairs
};

}  // namespace chapar::log
