// SPDX-License-Identifier: AGPL-3.0-or-later
// chaparctl check: is this installation ready to serve? Checks the configuration (loaded by
// then), server.user, every listener's port, the certificate and the store, and prints one
// line for each thing checked; a problem's line says what to do. Run as root, the ports are
// tested as root (as the daemons bind them) and the rest as server.user (as the daemons
// read and write it). Fails with kInvalidArgument when there were problems.
#pragma once

#include "chaparctl/context.hpp"
#include "common/result.hpp"

namespace chapar::ctl {

Status cmd_check(Context& ctx);

}  // namespace chapar::ctl
