// SPDX-License-Identifier: AGPL-3.0-or-later
// chaparctl queue list|show|retry|delete: the outbound queue that chapar-smtpd's queue runner
// works through. Changes go through the store, so a running daemon sees them at once.
#pragma once

#include "chaparctl/context.hpp"
#include "common/result.hpp"

namespace chapar::ctl {

// One line per entry: id, arrival, attempts, next attempt, sender, pending recipients.
Status cmd_queue_list(Context& ctx);
// Everything known about one entry, each recipient with its state and last error.
Status cmd_queue_show(Context& ctx);
// ID or "all": try again now (the queue runner is told).
Status cmd_queue_retry(Context& ctx);
// Removes the entry without delivering or reporting it.
Status cmd_queue_delete(Context& ctx);

}  // namespace chapar::ctl
