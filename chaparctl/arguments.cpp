// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/arguments.hpp"

#include <charconv>
#include <limits>

#include <fmt/format.h>

namespace chapar::ctl {

const OptionSpec* find_option(std::string_view name) {
  for (const OptionSpec& spec : kOptions) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

std::optional<std::string_view> Arguments::value(std::string_view name) const {
  auto it = options.find(name);
  if (it == options.end()) return std::nullopt;
  return std::string_view(it->second);
}

Result<Arguments> parse_arguments(std::span<const std::string> argv) {
  Arguments args;
  bool options_done = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    std::string_view arg = argv[i];
    if (options_done || arg.size() < 2 || arg.substr(0, 1) != "-") {
      args.words.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    if (arg == "-h") arg = "--help";
    if (arg.substr(0, 2) != "--") {
      return fail(Errc::kInvalidArgument, fmt::format("unknown option '{}'", arg));
    }
    std::string_view name = arg.substr(2);
    std::optional<std::string_view> inline_value;
    if (size_t eq = name.find('='); eq != std::string_view::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const OptionSpec* spec = find_option(name);
    if (spec == nullptr) {
      return fail(Errc::kInvalidArgument, fmt::format("unknown option '--{}'", name));
    }
    if (args.has(name)) {
      return fail(Errc::kInvalidArgument, fmt::format("option '--{}' given twice", name));
    }
    std::string value;
    if (spec->takes_value) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < argv.size()) {
        value = argv[++i];
      } else {
        return fail(Errc::kInvalidArgument,
                    fmt::format("option '--{}' needs a value ({})", name, spec->value_name));
      }
    } else if (inline_value) {
      return fail(Errc::kInvalidArgument, fmt::format("option '--{}' takes no value", name));
    }
    args.options.emplace(std::string(name), std::move(value));
  }
  return args;
}

Result<uint64_t> parse_number(std::string_view text, uint64_t min, uint64_t max) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return fail(Errc::kInvalidArgument, fmt::format("'{}' is not a number", text));
  }
  if (value < min || value > max) {
    return fail(Errc::kInvalidArgument,
                fmt::format("{} is out of range ({} to {})", value, min, max));
  }
  return value;
}

Result<uint64_t> parse_size(std::string_view text) {
  uint64_t multiplier = 1;
  std::string_view digits = text;
  if (!text.empty()) {
    switch (text.back()) {
      case 'K':
      case 'k':
        multiplier = uint64_t{1} << 10;
        break;
      case 'M':
      case 'm':
        multiplier = uint64_t{1} << 20;
        break;
      case 'G':
      case 'g':
        multiplier = uint64_t{1} << 30;
        break;
      case 'T':
      case 't':
        multiplier = uint64_t{1} << 40;
        break;
      default:
        break;
    }
    if (multiplier != 1) digits.remove_suffix(1);
  }
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    return fail(Errc::kInvalidArgument,
                fmt::format("'{}' is not a size (bytes, or a number with K, M, G or T)", text));
  }
  if (value > std::numeric_limits<uint64_t>::max() / multiplier) {
    return fail(Errc::kInvalidArgument, fmt::format("'{}' is too large", text));
  }
  return value * multiplier;
}

}  // namespace chapar::ctl
