// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/auth/throttle.hpp"

#include <fstream>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "tests/support/test_dir.hpp"

namespace chapar::auth {
namespace {

using namespace std::chrono_literals;
using Clock = LoginThrottle::Clock;

const Clock::time_point kStart = Clock::time_point(1700000000s);

config::Auth settings() {
  config::Auth a;
  a.failure_delay = 100ms;
  a.max_failure_delay = 3000ms;
  a.failure_window = 600s;
  a.global_failure_threshold = 20;
  return a;
}

std::unique_ptr<LoginThrottle> open_throttle(const test::TestDir& dir) {
  auto t = LoginThrottle::open(dir.path(), settings());
  REQUIRE_MESSAGE(t.has_value(), t.error().message);
  return std::move(*t);
}

TEST_CASE("throttle: the delay doubles per failure from an address, up to the maximum") {
  test::TestDir dir;
  auto t = open_throttle(dir);
  CHECK(std::filesystem::exists(dir / "run" / "throttle.db"));
  CHECK(t->delay_for("192.0.2.1", "bob", kStart) == 0ms);
  const std::chrono::milliseconds expected[] = {100ms, 200ms, 400ms, 800ms, 1600ms, 3000ms, 3000ms};
  for (auto want : expected) {
    t->record_failure("192.0.2.1", "bob", kStart);
    CHECK(t->delay_for("192.0.2.1", "bob", kStart) == want);
  }
  // Another user from the same address is slowed just the same; another address is not.
  CHECK(t->delay_for("192.0.2.1", "alice", kStart) == 3000ms);
  CHECK(t->delay_for("192.0.2.2", "alice", kStart) == 0ms);
}

TEST_CASE("throttle: failures are forgotten after the window and on success") {
  test::TestDir dir;
  auto t = open_throttle(dir);
  t->record_failure("192.0.2.1", "bob", kStart);
  t->record_failure("192.0.2.1", "bob", kStart + 1s);
  CHECK(t->delay_for("192.0.2.1", "bob", kStart + 2s) == 200ms);
  CHECK(t->delay_for("192.0.2.1", "bob", kStart + 600s) == 100ms);
  CHECK(t->delay_for("192.0.2.1", "bob", kStart + 602s) == 0ms);

  t->record_failure("192.0.2.1", "bob", kStart + 700s);
  t->record_failure("192.0.2.1", "carol", kStart + 700s);
  CHECK(t->delay_for("192.0.2.1", "bob", kStart + 700s) == 200ms);
  t->record_success("192.0.2.1", "BOB", kStart + 701s);
  CHECK(t->delay_for("192.0.2.1", "bob", kStart + 701s) == 100ms);  // carol's failure stays
}

TEST_CASE("throttle: one user guessed from many addresses") {
  test::TestDir dir;
  auto t = open_throttle(dir);
  for (int i = 1; i <= 4; ++i) t->record_failure(fmt::format("198.51.100.{}", i), "Bob", kStart);
  // Each address failed once (100 ms); the user was tried from 4 addresses (3 beyond one).
  CHECK(t->delay_for("198.51.100.1", "bob", kStart) == 400ms);
  CHECK(t->delay_for("203.0.113.9", "bob", kStart) == 400ms);
  CHECK(t->delay_for("203.0.113.9", "alice", kStart) == 0ms);
}

TEST_CASE("throttle: guessing spread over many accounts slows everyone a little") {
  test::TestDir dir;
  auto t = open_throttle(dir);
  for (int i = 0; i < 40; ++i) {
    t->record_failure(fmt::format("2001:db8:{:x}::1", i), fmt::format("user{}", i), kStart);
  }
  CHECK(t->delay_for("192.0.2.200", "nobody", kStart) == 200ms);
  for (int i = 0; i < 400; ++i) {
    t->record_failure(fmt::format("10.0.{}.{}", i / 200, i % 200), fmt::format("u{}", i), kStart);
  }
  CHECK(t->delay_for("192.0.2.200", "nobody", kStart) == 750ms);  // a quarter of the maximum
}

TEST_CASE("throttle: IPv6 addresses count per /64") {
  CHECK(LoginThrottle::address_key("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64");
  CHECK(LoginThrottle::address_key("::ffff:192.0.2.7") == "192.0.2.7");
  CHECK(LoginThrottle::address_key("192.0.2.7") == "192.0.2.7");
  test::TestDir dir;
  auto t = open_throttle(dir);
  t->record_failure("2001:db8:1:2::a", "bob", kStart);
  t->record_failure("2001:db8:1:2::b", "alice", kStart);
  CHECK(t->delay_for("2001:db8:1:2:ffff::1", "carol", kStart) == 200ms);
  CHECK(t->delay_for("2001:db8:1:3::1", "carol", kStart) == 0ms);
}

TEST_CASE("throttle: shared between instances through the file") {
  test::TestDir dir;
  auto first = open_throttle(dir);
  auto second = open_throttle(dir);
  first->record_failure("192.0.2.1", "bob", kStart);
  second->record_failure("192.0.2.1", "bob", kStart);
  CHECK(first->delay_for("192.0.2.1", "bob", kStart) == 200ms);
  CHECK(second->delay_for("192.0.2.1", "bob", kStart) == 200ms);
}

TEST_CASE("throttle: an unusable directory is reported") {
  test::TestDir dir;
  { std::ofstream(dir / "file") << "x"; }
  auto t = LoginThrottle::open(dir / "file", settings());
  REQUIRE_FALSE(t.has_value());
  CHECK(t.error().code == Errc::kIo);
}

}  // namespace
}  // namespace chapar::auth
