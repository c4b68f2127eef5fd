// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/net/admission.hpp"

namespace chapar::net {
namespace {

constexpr auto kRateWindow = std::chrono::minutes(1);

}  // namespace

std::string_view refusal_name(Refusal refusal) {
  switch (refusal) {
    case Refusal::kNone:
      return "none";
    case Refusal::kTooManyConnections:
      return "max_connections";
    case Refusal::kTooManyFromAddress:
      return "max_connections_per_ip";
    case Refusal::kTooFast:
      return "rate_limit";
  }
  return "none";
}

Admission::Admission(const config::ConnectionLimits& limits) : limits_(limits) {}

void Admission::forget_old(PerAddress& entry, Clock::time_point now) const {
  while (!entry.recent.empty() && now - entry.recent.front() >= kRateWindow) {
    entry.recent.pop_front();
  }
}

void Admission::sweep(Clock::time_point now) {
  for (auto it = addresses_.begin(); it != addresses_.end();) {
    forget_old(it->second, now);
    if (it->second.open == 0 && it->second.recent.empty()) {
      it = addresses_.erase(it);
    } else {
      ++it;
    }
  }
  // Sweep again when the table has doubled: the cost stays linear in the attempts.
  sweep_at_ = std::max<size_t>(1024, addresses_.size() * 2);
}

Refusal Admission::admit(const std::string& address, Clock::time_point now) {
  if (addresses_.size() >= sweep_at_) sweep(now);
  PerAddress& entry = addresses_[address];
  forget_old(entry, now);
  bool too_fast = entry.recent.size() >= limits_.new_connections_per_ip_per_minute;
  entry.recent.push_back(now);
  // Only the attempts that can still matter are kept.
  while (entry.recent.size() > std::max<size_t>(limits_.new_connections_per_ip_per_minute, 1)) {
    entry.recent.pop_front();
  }
  Refusal refusal = Refusal::kNone;
  if (total_ >= limits_.max_connections) {
    refusal = Refusal::kTooManyConnections;
  } else if (entry.open >= limits_.max_connections_per_ip) {
    refusal = Refusal::kTooManyFromAddress;
  } else if (too_fast) {
    refusal = Refusal::kTooFast;
  }
  if (refusal == Refusal::kNone) {
    ++entry.open;
    ++total_;
  }
  return refusal;
}

void Admission::release(const std::string& address) {
  auto it = addresses_.find(address);
  if (it == addresses_.end() || it->second.open == 0) return;
  --it->second.open;
  --total_;
}

uint32_t Admission::from(const std::string& address) const {
  auto it = addresses_.find(address);
  return it == addresses_.end() ? 0 : it->second.open;
}

}  // namespace chapar::net
