// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/auth/login_cache.hpp"

#include <doctest/doctest.h>

#include <string>

namespace chapar::auth {
namespace {

using namespace std::chrono_literals;

const LoginCache::Clock::time_point kNow{std::chrono::hours(24 * 20000)};

TEST_CASE("login cache: recalls only the same account, hash and password, within the lifetime") {
  LoginCache cache(60s);
  CHECK_FALSE(cache.recall("bob@example.org", "$y$hash", "secret", kNow));
  cache.remember("bob@example.org", "$y$hash", "secret", kNow);
  CHECK(cache.recall("bob@example.org", "$y$hash", "secret", kNow + 59s));
  CHECK_FALSE(cache.recall("bob@example.org", "$y$hash", "secreT", kNow));
  CHECK_FALSE(cache.recall("bob@example.org", "$y$other", "secret", kNow));
  CHECK_FALSE(cache.recall("alice@example.org", "$y$hash", "secret", kNow));
  // Parts do not run together: moving a character from one to the next changes the entry.
  CHECK_FALSE(cache.recall("bob@example.org", "$y$hasht", "ecret", kNow));
  CHECK_FALSE(cache.recall("bob@example.org", "$y$hash", "secret", kNow + 60s));
  // The expired entry is gone even for the right password.
  CHECK_FALSE(cache.recall("bob@example.org", "$y$hash", "secret", kNow));
}

TEST_CASE("login cache: the latest success of an account replaces the one before") {
  LoginCache cache(60s);
  cache.remember("bob@example.org", "$y$old", "first", kNow);
  cache.remember("bob@example.org", "$y$new", "second", kNow);
  CHECK_FALSE(cache.recall("bob@example.org", "$y$old", "first", kNow));
  CHECK(cache.recall("bob@example.org", "$y$new", "second", kNow));
}

TEST_CASE("login cache: a lifetime of zero keeps nothing") {
  LoginCache cache(0s);
  cache.remember("bob@example.org", "$y$hash", "secret", kNow);
  CHECK_FALSE(cache.recall("bob@example.org", "$y$hash", "secret", kNow));
}

TEST_CASE("login cache: when full, expired entries go first, then everything") {
  LoginCache cache(60s, 3);
  cache.remember("a@example.org", "h", "p", kNow);
  cache.remember("b@example.org", "h", "p", kNow + 30s);
  cache.remember("c@example.org", "h", "p", kNow + 30s);
  cache.remember("d@example.org", "h", "p", kNow + 61s);  // a has expired: it makes room
  CHECK(cache.recall("b@example.org", "h", "p", kNow + 61s));
  CHECK(cache.recall("c@example.org", "h", "p", kNow + 61s));
  CHECK(cache.recall("d@example.org", "h", "p", kNow + 61s));
  cache.remember("e@example.org", "h", "p", kNow + 62s);  // nothing expired: start afresh
  CHECK(cache.recall("e@example.org", "h", "p", kNow + 62s));
  CHECK_FALSE(cache.recall("b@example.org", "h", "p", kNow + 62s));
}

}  // namespace
}  // namespace chapar::auth
