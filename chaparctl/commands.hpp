// SPDX-License-Identifier: AGPL-3.0-or-later
// The command table and the one entry point. Each command names what it needs (nothing,
// the configuration, or the open store), how many operands it takes and which options it
// accepts; run() checks all of that once, before the handler sees the context.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "chaparctl/context.hpp"
#include "common/result.hpp"

namespace chapar::ctl {

enum class Needs { kNothing, kConfig, kStore };

using Handler = Status (*)(Context&);

struct Command {
  std::string_view group;     // "user"; the whole command for one-word commands ("stats")
  std::string_view verb;      // "add"; empty for one-word commands
  std::string_view operands;  // usage text of the operands, e.g. "ADDRESS"
  size_t min_operands;
  size_t max_operands;
  std::string_view options;   // space-separated names of the options it accepts
  std::string_view required;  // those of them that must be given
  Needs needs;
  Handler handler;
  std::string_view summary;
};

std::span<const Command> commands();

// Runs one chaparctl invocation (argv without the program name) and returns its exit status.
// Errors are one line on io.err, "chaparctl: ...".
int run(std::span<const std::string> argv, Io& io);

// The configuration file used when --config is not given: $CHAPAR_CONFIG, else
// /etc/chapar/chapar.toml.
std::string default_config_path();

// The usage text printed by --help.
std::string usage();

}  // namespace chapar::ctl
