// SPDX-License-Identifier: AGPL-3.0-or-later
// POP3 command lines: splitting a line into keyword and arguments, and the table of commands
// with the states they are valid in and the arguments they take. Pure: no I/O, no session.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace chapar::pop3 {

// RFC 1939 §3: AUTHORIZATION, then TRANSACTION after a login, then UPDATE after QUIT.
enum class State : uint8_t {
  kAuthorization = 1u << 0,
  kTransaction = 1u << 1,
  kUpdate = 1u << 2,
};

enum class Verb : uint8_t {
  kUser,
  kPass,
  kAuth,
  kStls,
  kCapa,
  kQuit,
  kStat,
  kList,
  kRetr,
  kDele,
  kNoop,
  kRset,
  kTop,
  kUidl,
};

struct CommandSpec {
  std::string_view name;
  Verb verb;
  uint8_t states;  // bits of State
  uint8_t min_args;
  uint8_t max_args;
  // The whole rest of the line is one argument, spaces included (RFC 1939 §7: a server may
  // treat spaces in the PASS argument as part of the password).
  bool raw_argument;
  // Sends a password: refused on a connection that is neither TLS nor loopback.
  bool needs_secure;
  std::string_view syntax;  // shown when the arguments are wrong
};

inline constexpr uint8_t kAuthorizationOnly = static_cast<uint8_t>(State::kAuthorization);
inline constexpr uint8_t kTransactionOnly = static_cast<uint8_t>(State::kTransaction);
inline constexpr uint8_t kEitherState = kAuthorizationOnly | kTransactionOnly;

// RFC 1939 §4-§7, RFC 2449 §5 (CAPA), RFC 2595 §4 (STLS), RFC 5034 §4 (AUTH; without
// arguments it lists the mechanisms, as RFC 1734 clients expect). APOP is not offered: it
// needs the password in clear on the server.
inline constexpr CommandSpec kCommands[] = {
    {"USER", Verb::kUser, kAuthorizationOnly, 1, 1, true, true, "USER name"},
    {"PASS", Verb::kPass, kAuthorizationOnly, 1, 1, true, true, "PASS password"},
    {"AUTH", Verb::kAuth, kAuthorizationOnly, 0, 2, false, true,
     "AUTH [mechanism [initial-response]]"},
    {"STLS", Verb::kStls, kAuthorizationOnly, 0, 0, false, false, "STLS"},
    {"CAPA", Verb::kCapa, kEitherState, 0, 0, false, false, "CAPA"},
    {"QUIT", Verb::kQuit, kEitherState, 0, 0, false, false, "QUIT"},
    {"STAT", Verb::kStat, kTransactionOnly, 0, 0, false, false, "STAT"},
    {"LIST", Verb::kList, kTransactionOnly, 0, 1, false, false, "LIST [msg]"},
    {"RETR", Verb::kRetr, kTransactionOnly, 1, 1, false, false, "RETR msg"},
    {"DELE", Verb::kDele, kTransactionOnly, 1, 1, false, false, "DELE msg"},
    {"NOOP", Verb::kNoop, kTransactionOnly, 0, 0, false, false, "NOOP"},
    {"RSET", Verb::kRset, kTransactionOnly, 0, 0, false, false, "RSET"},
    {"TOP", Verb::kTop, kTransactionOnly, 2, 2, false, false, "TOP msg n"},
    {"UIDL", Verb::kUidl, kTransactionOnly, 0, 1, false, false, "UIDL [msg]"},
};

// The entry for `keyword` (case-insensitive), or nullptr.
const CommandSpec* find_command(std::string_view keyword);

struct CommandLine {
  std::string keyword;                 // upper-cased
  std::vector<std::string_view> args;  // views into the line given to parse_command
};

// Splits `line` (without CRLF) at single spaces (RFC 1939 §3). A command with a raw argument
// keeps everything after the first space as one argument. Trailing spaces are ignored, as
// several clients send them.
CommandLine parse_command(std::string_view line);

// A message number or line count: decimal digits only, no sign, at most 9 digits.
std::optional<uint32_t> parse_number(std::string_view text);

}  // namespace chapar::pop3
