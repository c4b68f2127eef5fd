// SPDX-License-Identifier: AGPL-3.0-or-later
// The main() shared by chapar-smtpd, chapar-pop3d and chapar-imapd:
//
//   chapar-NAME [--config FILE] [--help] [--version]
//
// 1. Loads the configuration (default /etc/chapar/chapar.toml); a bad one is one line on
//    stderr and exit status 78 (config::kExitConfig).
// 2. Loads the TLS certificate, binds every listener (port 0 picks a free port) and logs
//    `event=listening name=… address=… port=… tls=…` for each with the port actually bound.
// 3. When started as root with server.user set, drops to that user (supplementary groups,
//    group, user) and refuses to go on if root could be regained.
// 4. Calls the daemon's setup, which builds its state and returns the session factory.
// 5. Runs the loop. SIGTERM/SIGINT: graceful shutdown (sessions finish, whatever remains is
//    cut off after 4 s, the process exits within 5 s). SIGHUP: re-reads the certificate and
//    key for new connections; open connections keep theirs. SIGPIPE is ignored.
//
// Exit status: 0 after a clean shutdown, 64 for bad flags, 78 for bad configuration, 1 for
// anything else that stops start-up.
#pragma once

#include <uv.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.hpp"
#include "common/log.hpp"
#include "common/net/session.hpp"
#include "common/result.hpp"

namespace chapar {

namespace tls {
class Context;
}

inline constexpr std::string_view kChaparVersion = CHAPAR_VERSION;
inline constexpr const char* kDefaultConfigPath = "/etc/chapar/chapar.toml";
inline constexpr int kExitUsage = 64;  // sysexits.h EX_USAGE

struct DaemonContext {
  uv_loop_t* loop;
  const config::Config& config;
  log::Logger& logger;
  tls::Context* tls;  // null when no TLS is configured

  // Runs on the loop thread when shutdown begins: setup registers here whatever must stop
  // (timers, sockets, queue runners) so that the loop can end.
  void on_shutdown(std::function<void()> fn) { shutdown_hooks.push_back(std::move(fn)); }
  std::vector<std::function<void()>> shutdown_hooks;
};

struct DaemonSpec {
  std::string name;  // "chapar-smtpd"
  std::function<const std::vector<config::Listener>&(const config::Config&)> listeners;
  std::function<const config::ConnectionLimits&(const config::Config&)> limits;
  // Called after binding and dropping privileges; returns the factory for every connection.
  // Whatever the factory captures lives until the loop has ended.
  std::function<Result<net::SessionFactory>(DaemonContext&)> setup;
};

int run_daemon(int argc, char** argv, const DaemonSpec& spec);

// Switches to `user`'s uid, gid and supplementary groups, and checks that root cannot be
// regained.
Status drop_privileges(const std::string& user);

}  // namespace chapar
