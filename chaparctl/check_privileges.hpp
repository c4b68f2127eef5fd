// SPDX-License-Identifier: AGPL-3.0-or-later
// chaparctl run as root on a packaged installation: the commands that create or open the
// store switch to server.user first, as the daemons do, so that whatever they create in the
// data directory belongs to the daemons' user and not to root.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "common/config.hpp"
#include "common/result.hpp"

namespace chapar::ctl {

struct ServerUser {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// server.user from the password database; nullopt when server.user is empty, kNotFound
// when there is no such user.
Result<std::optional<ServerUser>> lookup_server_user(const config::Config& config);

// When this process runs as root and server.user is set, switches to that user for good
// (groups, gid, uid). Returns the user switched to; nullopt when nothing was done.
Result<std::optional<ServerUser>> become_server_user(const config::Config& config);

}  // namespace chapar::ctl
