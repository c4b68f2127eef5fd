// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/net/address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace chapar::net {

Result<PeerInfo> peer_from_sockaddr(const sockaddr* address) {
  char text[INET6_ADDRSTRLEN] = {};
  PeerInfo peer;
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    peer.port = ntohs(in->sin_port);
    peer.loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
  } else if (address->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address);
    peer.port = ntohs(in6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
      in_addr v4;
      std::memcpy(&v4, in6->sin6_addr.s6_addr + 12, sizeof v4);
      inet_ntop(AF_INET, &v4, text, sizeof text);
      peer.loopback = (ntohl(v4.s_addr) >> 24) == 127;
    } else {
      inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
      peer.loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
  } else {
    return fail(Errc::kInvalidArgument, "not an IP address");
  }
  peer.address = text;
  return peer;
}

Result<sockaddr_storage> listen_address(std::string_view host, uint16_t port) {
  std::string text(host);
  sockaddr_storage storage{};
  auto* in = reinterpret_cast<sockaddr_in*>(&storage);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (inet_pton(AF_INET, text.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
  } else if (inet_pton(AF_INET6, text.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
  } else {
    return fail(Errc::kInvalidArgument, "not an IP address: " + text);
  }
  return storage;
}

}  // namespace chapar::net
