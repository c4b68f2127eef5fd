// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/check.hpp"

#include <pwd.h>
#include <unistd.h>

#include <ctime>

#include <fmt/format.h>

#include "chaparctl/check_ports.hpp"
#include "chaparctl/check_privileges.hpp"
#include "chaparctl/check_report.hpp"
#include "chaparctl/check_store.hpp"
#include "chaparctl/check_tls.hpp"

namespace chapar::ctl {
namespace {

std::string current_user() {
  passwd* entry = ::getpwuid(::geteuid());
  return entry != nullptr ? std::string(entry->pw_name) : fmt::format("uid {}", ::geteuid());
}

bool uses_tls(const config::Config& config) {
  for (const NamedListener& named : all_listeners(config)) {
    if (named.listener.tls != net::TlsMode::kNone) return true;
  }
  return false;
}

// server.user exists, and is set when the daemons may be started as root.
void check_user(const config::Config& config, CheckReport& report) {
  auto user = lookup_server_user(config);
  if (!user) {
    report.problem(
        fmt::format("{}: create the user (adduser --system --group {}) or change "
                    "server.user",
                    user.error().message, config.server.user));
  } else if (!*user && ::geteuid() == 0) {
    report.problem(
        "server.user is empty: daemons started as root would serve as root; set server.user = "
        "\"chapar\"");
  } else if (*user) {
    report.ok(fmt::format("server.user {} exists", config.server.user));
  }
}

}  // namespace

Status cmd_check(Context& ctx) {
  const config::Config& config = *ctx.config;
  CheckReport report;
  report.ok(fmt::format("configuration {}", config.path.string()));
  if (all_listeners(config).empty()) {
    report.problem(
        "no listeners: add [[smtpd.listeners]], [[pop3d.listeners]] or "
        "[[imapd.listeners]] sections");
  }
  check_user(config, report);
  check_ports(config, report);

  // The rest as the daemons' user, who must be able to read and write it.
  auto switched = become_server_user(config);
  std::string reader = fmt::format("user {}", current_user());
  if (switched && *switched) reader = fmt::format("user {}", (*switched)->name);
  if (!switched && switched.error().code != Errc::kNotFound) {
    report.problem(fmt::format("{}: run 'chaparctl check' as root or as server.user",
                               switched.error().message));
  }

  if (uses_tls(config) || !config.tls.certificate.empty()) {
    check_certificate({.certificate = config.tls.certificate,
                       .key = config.tls.key,
                       .hostname = config.server.hostname,
                       .reader = reader,
                       .now = std::time(nullptr)},
                      report);
  }
  check_store(config.store.data_dir, reader, report);

  for (const std::string& line : report.lines) ctx.io.out << line << '\n';
  if (report.problems > 0) {
    ctx.io.out.flush();
    return fail(Errc::kInvalidArgument, fmt::format("{} problem{} found", report.problems,
                                                    report.problems == 1 ? "" : "s"));
  }
  ctx.io.out << "everything is in order\n";
  return {};
}

}  // namespace chapar::ctl
