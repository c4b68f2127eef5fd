// SPDX-License-Identifier: AGPL-3.0-or-later
#include <doctest/doctest.h>
#include <netinet/in.h>

#include "common/net/address.hpp"
#include "common/net/admission.hpp"

namespace chapar::net {
namespace {

using namespace std::chrono_literals;
using Clock = Admission::Clock;

TEST_CASE("admission: total and per-address limits") {
  config::ConnectionLimits limits;
  limits.max_connections = 3;
  limits.max_connections_per_ip = 2;
  Admission admission(limits);
  Clock::time_point t{};
  CHECK(admission.admit("192.0.2.1", t) == Refusal::kNone);
  CHECK(admission.admit("192.0.2.1", t) == Refusal::kNone);
  CHECK(admission.admit("192.0.2.1", t) == Refusal::kTooManyFromAddress);
  CHECK(admission.admit("192.0.2.2", t) == Refusal::kNone);
  CHECK(admission.admit("192.0.2.3", t) == Refusal::kTooManyConnections);
  CHECK(admission.total() == 3);
  admission.release("192.0.2.1");
  CHECK(admission.from("192.0.2.1") == 1);
  CHECK(admission.admit("192.0.2.3", t) == Refusal::kNone);
  admission.release("198.51.100.9");  // never admitted: ignored
  CHECK(admission.total() == 3);
}

TEST_CASE("admission: new connections per address per minute, attempts included") {
  config::ConnectionLimits limits;
  limits.new_connections_per_ip_per_minute = 3;
  Admission admission(limits);
  Clock::time_point t{};
  for (int i = 0; i < 3; ++i) {
    CHECK(admission.admit("192.0.2.1", t) == Refusal::kNone);
    admission.release("192.0.2.1");
  }
  CHECK(admission.admit("192.0.2.1", t + 10s) == Refusal::kTooFast);
  CHECK(admission.admit("192.0.2.2", t + 10s) == Refusal::kNone);
  // A minute after the refused attempt the window has room again.
  CHECK(admission.admit("192.0.2.1", t + 50s) == Refusal::kTooFast);
  CHECK(admission.admit("192.0.2.1", t + 111s) == Refusal::kNone);
  CHECK(refusal_name(Refusal::kTooFast) == "rate_limit");
}

TEST_CASE("admission: many addresses are forgotten once idle") {
  config::ConnectionLimits limits;
  limits.max_connections = 100000;
  Admission admission(limits);
  Clock::time_point t{};
  for (int i = 0; i < 5000; ++i) {
    std::string address = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    REQUIRE(admission.admit(address, t + std::chrono::seconds(i)) == Refusal::kNone);
    admission.release(address);
  }
  CHECK(admission.total() == 0);
}

TEST_CASE("address: IPv4, IPv6 and IPv4-mapped peers") {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(2525);
  in.sin_addr.s_addr = htonl(0x7f000001);
  auto peer = peer_from_sockaddr(reinterpret_cast<sockaddr*>(&in));
  REQUIRE(peer.has_value());
  CHECK(peer->address == "127.0.0.1");
  CHECK(peer->port == 2525);
  CHECK(peer->loopback);

  auto mapped = listen_address("::ffff:192.0.2.7", 25);
  REQUIRE(mapped.has_value());
  peer = peer_from_sockaddr(reinterpret_cast<sockaddr*>(&*mapped));
  REQUIRE(peer.has_value());
  CHECK(peer->address == "192.0.2.7");
  CHECK_FALSE(peer->loopback);

  auto six = listen_address("::1", 143);
  REQUIRE(six.has_value());
  peer = peer_from_sockaddr(reinterpret_cast<sockaddr*>(&*six));
  REQUIRE(peer.has_value());
  CHECK(peer->address == "::1");
  CHECK(peer->loopback);

  CHECK_FALSE(listen_address("mail.example.org", 25).has_value());
}

}  // namespace
}  // namespace chapar::net
