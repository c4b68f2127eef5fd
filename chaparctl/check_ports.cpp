// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/check_ports.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include <fmt/format.h>

namespace chapar::ctl {
namespace {

constexpr uint16_t kFirstUnprivilegedPort = 1024;
constexpr std::string_view kTcpListen = "0A";  // TCP_LISTEN in /proc/net/tcp

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

struct DirClose {
  void operator()(DIR* dir) const { ::closedir(dir); }
};

bool is_ipv4_wildcard(const config::Listener& listener) {
  return listener.address == "0.0.0.0";
}

// 0 when bound, else errno.
int try_bind(const config::Config& config, const config::Listener& listener) {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (::inet_pton(AF_INET, listener.address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(listener.port);
    length = sizeof *v4;
  } else if (::inet_pton(AF_INET6, listener.address.c_str(), &v6->sin6_addr) == 1) {
    family = AF_INET6;
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(listener.port);
    length = sizeof *v6;
  } else {
    return EINVAL;
  }
  Fd socket{::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (socket.fd < 0) return errno;
  int one = 1;
  ::setsockopt(socket.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET6) {
    // As the daemons do: "::" is dual stack unless "0.0.0.0" has the same port.
    int v6only = listener.address != "::";
    for (const config::Listener& other : config.smtpd.listeners) {
      if (is_ipv4_wildcard(other) && other.port == listener.port) v6only = 1;
    }
    for (const config::Listener& other : config.pop3d.listeners) {
      if (is_ipv4_wildcard(other) && other.port == listener.port) v6only = 1;
    }
    for (const config::Listener& other : config.imapd.listeners) {
      if (is_ipv4_wildcard(other) && other.port == listener.port) v6only = 1;
    }
    ::setsockopt(socket.fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  }
  if (::bind(socket.fd, reinterpret_cast<const sockaddr*>(&storage), length) != 0) return errno;
  // Binding succeeds on a port another socket listens on with SO_REUSEADDR only if that one
  // is not listening; listen() settles it.
  if (::listen(socket.fd, 1) != 0) return errno;
  return 0;
}

// Inodes of the listening sockets on `port` in one /proc/net/tcp* table.
void listening_inodes(const char* table, uint16_t port, std::set<std::string>& inodes) {
  std::ifstream in(table);
  std::string line;
  std::getline(in, line);  // the header
  const std::string wanted = fmt::format(":{:04X}", port);
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
        timeout >> inode;
    if (state == kTcpListen && local.ends_with(wanted)) inodes.insert(inode);
  }
}

}  // namespace

std::vector<NamedListener> all_listeners(const config::Config& config) {
  std::vector<NamedListener> out;
  auto add = [&](std::string_view daemon, const std::vector<config::Listener>& listeners) {
    for (size_t i = 0; i < listeners.size(); ++i) {
      out.push_back({fmt::format("{}.listeners[{}]", daemon, i), listeners[i]});
    }
  };
  add("smtpd", config.smtpd.listeners);
  add("pop3d", config.pop3d.listeners);
  add("imapd", config.imapd.listeners);
  return out;
}

PortHolder find_port_holder(uint16_t port) {
  std::set<std::string> inodes;
  listening_inodes("/proc/net/tcp", port, inodes);
  listening_inodes("/proc/net/tcp6", port, inodes);
  if (inodes.empty()) return {};
  std::unique_ptr<DIR, DirClose> proc(::opendir("/proc"));
  if (!proc) return {};
  while (dirent* entry = ::readdir(proc.get())) {
    int pid = std::atoi(entry->d_name);
    if (pid <= 0) continue;
    const std::string fd_dir = fmt::format("/proc/{}/fd", pid);
    std::unique_ptr<DIR, DirClose> fds(::opendir(fd_dir.c_str()));
    if (!fds) continue;
    while (dirent* fd = ::readdir(fds.get())) {
      char target[128];
      const std::string link = fmt::format("{}/{}", fd_dir, fd->d_name);
      ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
      if (n <= 0) continue;
      std::string_view text(target, static_cast<size_t>(n));
      if (!text.starts_with("socket:[")) continue;
      std::string inode(text.substr(8, text.size() - 9));
      if (inodes.count(inode) == 0) continue;
      std::ifstream comm(fmt::format("/proc/{}/comm", pid));
      PortHolder holder{pid, {}};
      std::getline(comm, holder.command);
      return holder;
    }
  }
  return {};
}

void check_ports(const config::Config& config, CheckReport& report) {
  const bool root = ::geteuid() == 0;
  bool skipped_privileged = false;
  for (const NamedListener& named : all_listeners(config)) {
    const config::Listener& listener = named.listener;
    if (listener.port == 0) continue;  // the system picks one at start-up
    const std::string where = fmt::format("{} ({} on {} port {})", named.key, listener.name,
                                          listener.address, listener.port);
    int error = try_bind(config, listener);
    if (error == 0) {
      report.ok(fmt::format("{} is free", where));
    } else if (error == EACCES && !root && listener.port < kFirstUnprivilegedPort) {
      skipped_privileged = true;
    } else if (error == EADDRINUSE) {
      PortHolder holder = find_port_holder(listener.port);
      if (holder.command.starts_with("chapar-")) {
        report.ok(fmt::format("{} is served by {} (pid {})", where, holder.command, holder.pid));
      } else if (holder.pid != 0) {
        report.problem(
            fmt::format("{}: the port is in use by {} (pid {}): stop it, or change "
                        "{}.port",
                        where, holder.command, holder.pid, named.key));
      } else {
        report.problem(
            fmt::format("{}: the port is in use by another program (see: ss -ltnp "
                        "'sport = :{}'): stop it, or change {}.port",
                        where, listener.port, named.key));
      }
    } else if (error == EADDRNOTAVAIL) {
      report.problem(fmt::format("{}: {} is not an address of this host: change {}.address", where,
                                 listener.address, named.key));
    } else if (error == EAFNOSUPPORT) {
      report.problem(
          fmt::format("{}: this host has no IPv6: set {}.address = \"0.0.0.0\"", where, named.key));
    } else {
      report.problem(fmt::format("{}: cannot bind: {}: change {}.address or {}.port", where,
                                 std::strerror(error), named.key, named.key));
    }
  }
  if (skipped_privileged) {
    report.note("ports below 1024 were not tested: run 'chaparctl check' as root to test them");
  }
}

}  // namespace chapar::ctl
