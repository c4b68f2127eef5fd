// SPDX-License-Identifier: AGPL-3.0-or-later
// The configuration file `chaparctl init` writes: the embedded default, everything under one
// directory, listening on loopback on unprivileged ports.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

namespace chapar::ctl {

// One listener of the embedded default, at port base + offset.
struct PlannedListener {
  std::string_view daemon;  // the configuration section: "smtpd", "pop3d", "imapd"
  std::string_view name;
  uint16_t offset;
  std::string_view tls;  // "starttls" or "implicit"
};

std::span<const PlannedListener> planned_listeners();

inline constexpr uint16_t kDefaultPortBase = 10000;
// The highest port base that keeps every listener within 65535.
uint16_t max_port_base();

struct InitialConfig {
  std::filesystem::path data_dir;     // absolute
  std::filesystem::path certificate;  // absolute
  std::filesystem::path key;          // absolute
  std::string hostname;
  uint16_t port_base = kDefaultPortBase;
  std::string address = "127.0.0.1";
};

// The TOML text, with comments.
std::string render_config(const InitialConfig& settings);

// A TOML basic string (TOML 1.0 §String), quotes included.
std::string toml_string(std::string_view text);

}  // namespace chapar::ctl
