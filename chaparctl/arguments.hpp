// SPDX-License-Identifier: AGPL-3.0-or-later
// The command line, split into words and options. Options may come before or after the
// command words, as `--name value`, `--name=value` or (for flags) `--name`; `--` ends the
// options. Every option chaparctl knows is listed in one table, so that a value-taking
// option never swallows a command word by accident.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace chapar::ctl {

struct OptionSpec {
  std::string_view name;  // without the leading "--"
  bool takes_value;
  std::string_view value_name;  // for usage text, e.g. "FILE"
};

// Every option of every command; which command accepts which is in the command table.
inline constexpr OptionSpec kOptions[] = {
    {"config", true, "FILE"},           {"dir", true, "DIR"},     {"domain", true, "DOMAIN"},
    {"hostname", true, "NAME"},         {"port-base", true, "N"}, {"password-stdin", false, ""},
    {"quota", true, "BYTES"},           {"help", false, ""},      {"selector", true, "NAME"},
    {"algorithm", true, "rsa|ed25519"},
};

const OptionSpec* find_option(std::string_view name);

struct Arguments {
  std::vector<std::string> words;  // positional arguments, command words first
  std::map<std::string, std::string, std::less<>> options;  // flags map to ""

  bool has(std::string_view name) const { return options.find(name) != options.end(); }
  std::optional<std::string_view> value(std::string_view name) const;
};

// Splits argv (without the program name). Fails on an unknown option, a missing value or an
// option given twice.
Result<Arguments> parse_arguments(std::span<const std::string> argv);

// A byte count: digits, optionally followed by K, M, G or T (powers of 1024).
Result<uint64_t> parse_size(std::string_view text);

// A decimal number in [min, max].
Result<uint64_t> parse_number(std::string_view text, uint64_t min, uint64_t max);

}  // namespace chapar::ctl
