// SPDX-License-Identifier: AGPL-3.0-or-later
// Socket addresses as the rest of Chapar sees them: text without a port, IPv4 clients on a
// dual-stack IPv6 listener shown as IPv4.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "common/net/session.hpp"
#include "common/result.hpp"

namespace chapar::net {

// Fills address, port and loopback (127.0.0.0/8, ::1) from an AF_INET or AF_INET6 address.
Result<PeerInfo> peer_from_sockaddr(const sockaddr* address);

// Parses a listen address ("0.0.0.0", "::", "127.0.0.1", "::1") with a port.
Result<sockaddr_storage> listen_address(std::string_view host, uint16_t port);

}  // namespace chapar::net
