// SPDX-License-Identifier: AGPL-3.0-or-later
// chaparctl's exit statuses, after sysexits.h, so that scripts can tell a typo from a
// missing configuration from a store that cannot be written.
#pragma once

#include "common/result.hpp"

namespace chapar::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 64;     // unknown command or option, wrong number of arguments
inline constexpr int kExitData = 65;      // malformed or conflicting input (bad address, duplicate)
inline constexpr int kExitNoUser = 67;    // the named domain, account or alias does not exist
inline constexpr int kExitSoftware = 70;  // an internal error
inline constexpr int kExitIo = 74;        // reading or writing a file failed
inline constexpr int kExitTempFail = 75;  // busy; trying again later may succeed
inline constexpr int kExitNoPerm = 77;    // not allowed
inline constexpr int kExitConfig = 78;    // the configuration is missing or invalid

// The exit status for a failure reported by a command.
int exit_code_for(Errc code);

}  // namespace chapar::ctl
