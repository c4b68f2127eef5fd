// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/initial_config.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace chapar::ctl {
namespace {

constexpr PlannedListener kListeners[] = {
    {"smtpd", "smtp", 25, "starttls"},         {"smtpd", "submission", 587, "starttls"},
    {"smtpd", "submissions", 465, "implicit"}, {"pop3d", "pop3", 110, "starttls"},
    {"pop3d", "pop3s", 995, "implicit"},       {"imapd", "imap", 143, "starttls"},
    {"imapd", "imaps", 993, "implicit"},
};

constexpr std::string_view kHeader =
    "# Chapar configuration, written by `chaparctl init`.\n"
    "# Every key not set here has its default; README.md lists them all.\n"
    "# The listeners are on loopback: set address = \"0.0.0.0\" (or \"::\") to serve other\n"
    "# machines.\n";

}  // namespace

std::span<const PlannedListener> planned_listeners() {
  return kListeners;
}

uint16_t max_port_base() {
  uint16_t highest = 0;
  for (const PlannedListener& l : kListeners) highest = std::max(highest, l.offset);
  return static_cast<uint16_t>(65535 - highest);
}

std::string toml_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out += fmt::format("\\u{:04X}", u);
        } else {
          out.push_back(c);
        }
    }
  }
  out += '"';
  return out;
}

std::string render_config(const InitialConfig& settings) {
  std::string text(kHeader);
  text += fmt::format(
      "\n[server]\n"
      "hostname = {}\n"
      "user = \"\"            # started by an unprivileged user: nothing to drop to\n"
      "log_level = \"info\"   # debug | info | warning | error\n"
      "\n[store]\n"
      "data_dir = {}\n"
      "\n[tls]\n"
      "# Self-signed by chaparctl init; replace with a real certificate for clients to trust.\n"
      "certificate = {}\n"
      "key = {}\n",
      toml_string(settings.hostname), toml_string(settings.data_dir.string()),
      toml_string(settings.certificate.string()), toml_string(settings.key.string()));
  std::string_view daemon;
  for (const PlannedListener& l : kListeners) {
    if (l.daemon != daemon) {
      daemon = l.daemon;
      text += fmt::format("\n# chapar-{}\n", daemon);
    }
    text += fmt::format(
        "\n[[{}.listeners]]\nname = \"{}\"\naddress = {}\nport = {}\ntls = \"{}\"\n", l.daemon,
        l.name, toml_string(settings.address), settings.port_base + l.offset, l.tls);
  }
  return text;
}

}  // namespace chapar::ctl
