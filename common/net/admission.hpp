// SPDX-License-Identifier: AGPL-3.0-or-later
// Whether a new connection may be accepted, by the limits in config::ConnectionLimits: total
// connections, connections per client address, and new connections per address per minute
// (every attempt counts, so a client that hammers stays refused). No I/O; the time is passed
// in.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/config.hpp"

namespace chapar::net {

enum class Refusal { kNone, kTooManyConnections, kTooManyFromAddress, kTooFast };

// "max_connections", "max_connections_per_ip", "rate_limit": for log lines.
std::string_view refusal_name(Refusal refusal);

class Admission {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Admission(const config::ConnectionLimits& limits);

  // Counts the attempt; on kNone the connection is open until release(address).
  Refusal admit(const std::string& address, Clock::time_point now);
  void release(const std::string& address);

  uint32_t total() const { return total_; }
  uint32_t from(const std::string& address) const;

 private:
  struct PerAddress {
    uint32_t open = 0;
    std::deque<Clock::time_point> recent;  // the last attempts within a minute, oldest first
  };

  void forget_old(PerAddress& entry, Clock::time_point now) const;
  void sweep(Clock::time_point now);

  config::ConnectionLimits limits_;
  uint32_t total_ = 0;
  std::unordered_map<std::string, PerAddress> addresses_;
  size_t sweep_at_ = 1024;
};

}  // namespace chapar::net
