// SPDX-License-Identifier: AGPL-3.0-or-later
// How chapar-pop3d runs under the shared daemon main (common/daemon.hpp): its listeners,
// its connection limits, and a setup that opens the store and the login throttle that every
// session shares.
#pragma once

#include "common/daemon.hpp"

namespace chapar::pop3 {

DaemonSpec daemon_spec();

}  // namespace chapar::pop3
