// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/check_privileges.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "common/daemon.hpp"

namespace chapar::ctl {

Result<std::optional<ServerUser>> lookup_server_user(const config::Config& config) {
  const std::string& name = config.server.user;
  if (name.empty()) return std::optional<ServerUser>();
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(size > 0 ? static_cast<size_t>(size) : 16384);
  passwd entry{};
  passwd* found = nullptr;
  int rc = ::getpwnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (found == nullptr) {
    if (rc != 0) {
      return fail(Errc::kIo,
                  fmt::format("server.user: cannot look up {}: {}", name, std::strerror(rc)));
    }
    return fail(Errc::kNotFound, fmt::format("server.user: there is no user {}", name));
  }
  return std::optional<ServerUser>(ServerUser{name, entry.pw_uid, entry.pw_gid});
}

Result<std::optional<ServerUser>> become_server_user(const config::Config& config) {
  if (::geteuid() != 0) return std::optional<ServerUser>();
  auto user = lookup_server_user(config);
  if (!user || !*user) return user;
  if (Status dropped = drop_privileges((*user)->name); !dropped) {
    return fail(dropped.error().code, fmt::format("cannot switch to server.user {}: {}",
                                                  (*user)->name, dropped.error().message));
  }
  return user;
}

}  // namespace chapar::ctl
