// SPDX-License-Identifier: AGPL-3.0-or-later
// Remembers successful password checks for a while, so that a client logging in again with
// the same password skips the deliberately slow hash (about 90 ms of CPU for yescrypt).
// Mail clients open several connections and reconnect all day; without this, each one costs
// a full hash.
//
// What is kept per account: an HMAC-SHA256, under a random key made when the process
// starts, of the account, its stored hash and the password, with the time it expires. A
// changed password (a new stored hash) never matches an old entry; a wrong password is
// never remembered and always takes the full hash, so answers to wrong guesses take as
// long as before. Nothing is written to disk; a restart forgets everything.
//
// Thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace chapar::auth {

class LoginCache {
 public:
  using Clock = std::chrono::system_clock;

  // `lifetime` zero disables the cache. At most `capacity` accounts are remembered; when it
  // is full, expired entries go first, then everything.
  explicit LoginCache(std::chrono::seconds lifetime, size_t capacity = 100000);
  LoginCache(const LoginCache&) = delete;
  LoginCache& operator=(const LoginCache&) = delete;

  // Whether `password` was found to match `hash` for `account` less than the lifetime ago.
  bool recall(std::string_view account, std::string_view hash, std::string_view password,
              Clock::time_point now);
  // Notes that `password` matches `hash` for `account`.
  void remember(std::string_view account, std::string_view hash, std::string_view password,
                Clock::time_point now);

 private:
  using Mac = std::array<unsigned char, 32>;
  struct Entry {
    Mac mac{};
    Clock::time_point expires;
  };

  Mac mac(std::string_view account, std::string_view hash, std::string_view password) const;

  std::chrono::seconds lifetime_;
  size_t capacity_;
  std::array<unsigned char, 32> key_{};
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace chapar::auth
