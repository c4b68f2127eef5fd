// SPDX-License-Identifier: AGPL-3.0-or-later
// chapar-imapd as a daemon: what run_daemon needs to serve IMAP sessions from the store.
#pragma once

#include "common/daemon.hpp"

namespace chapar::imap {

// The listeners and limits of [imapd], and a setup that opens the store and the login
// throttle and follows the store's change announcements.
DaemonSpec daemon_spec();

}  // namespace chapar::imap
