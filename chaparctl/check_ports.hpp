// SPDX-License-Identifier: AGPL-3.0-or-later
// The port check of `chaparctl check`: can each listener bind its address and port, or is
// it bound already by a Chapar daemon (the daemons are running)?
#pragma once

#include <string>
#include <vector>

#include "chaparctl/check_report.hpp"
#include "common/config.hpp"

namespace chapar::ctl {

// Each listener of the three daemons with the key it is configured under
// ("smtpd.listeners[0]"), in file order.
struct NamedListener {
  std::string key;
  config::Listener listener;
};
std::vector<NamedListener> all_listeners(const config::Config& config);

// Binds each listener's address and port for a moment, as the daemon would (a dual-stack
// "::" unless "0.0.0.0" has the same port). A port in use is in order when a process named
// chapar-* holds it. Ports below 1024 are tested only by root.
void check_ports(const config::Config& config, CheckReport& report);

// The pid and command name of the process with a listening TCP socket on `port`, from
// /proc (empty when none is found or /proc cannot be read).
struct PortHolder {
  int pid = 0;
  std::string command;
};
PortHolder find_port_holder(uint16_t port);

}  // namespace chapar::ctl
