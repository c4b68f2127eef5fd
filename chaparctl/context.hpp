// SPDX-License-Identifier: AGPL-3.0-or-later
// What a command handler gets: its arguments, the streams to talk through, and — when its
// table entry asks for them — the loaded configuration and the open store.
#pragma once

#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "chaparctl/arguments.hpp"
#include "common/config.hpp"
#include "libmailstore/store.hpp"

namespace chapar::ctl {

// The outside world of one chaparctl run. main() passes the process's streams; tests pass
// string streams.
struct Io {
  std::istream& in;
  std::ostream& out;
  std::ostream& err;
};

struct Context {
  const Arguments& arguments;
  std::vector<std::string> operands;  // the positional arguments after the command words
  Io& io;
  std::optional<config::Config> config;  // loaded when the command needs it
  std::unique_ptr<store::Store> store;   // opened when the command needs it

  std::optional<std::string_view> option(std::string_view name) const {
    return arguments.value(name);
  }
  bool flag(std::string_view name) const { return arguments.has(name); }
  // The n-th operand, or "" when there are fewer (the table has checked the arity).
  const std::string& operand(size_t n) const;
};

}  // namespace chapar::ctl
