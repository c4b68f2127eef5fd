// SPDX-License-Identifier: AGPL-3.0-or-later
// Slows down password guessing. Failed logins are remembered for config::Auth::failure_window
// in a small SQLite file, DATA_DIR/run/throttle.db, shared by every daemon and process, so
// that an attacker gains nothing by switching from IMAP to POP3 or by reconnecting.
//
// The delay before answering a login attempt is the largest of
//  - per client address: failure_delay, doubled for each further failure, up to
//    max_failure_delay (IPv6 addresses count per /64, as one host usually holds a /64);
//  - per user: the same doubling counted over the distinct addresses that failed for that
//    user, beyond the first (one account guessed from many addresses);
//  - everywhere: failure_delay for every global_failure_threshold failures from anyone,
//    up to a quarter of max_failure_delay (guessing spread thinly over many accounts).
//
// Thread-safe. The throttle never fails its caller: when the file cannot be used, failures
// are not counted and every delay is failure_delay, and a warning is logged.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/auth/login_cache.hpp"
#include "common/config.hpp"
#include "common/result.hpp"

namespace chapar::auth {

class LoginThrottle {
 public:
  using Clock = std::chrono::system_clock;
  struct Database;
  class Key {
    friend class LoginThrottle;
    Key() = default;
  };

  // Opens DATA_DIR/run/throttle.db, creating the directory and the file when missing.
  static Result<std::unique_ptr<LoginThrottle>> open(const std::filesystem::path& data_dir,
                                                     const config::Auth& settings);
  // Use open().
  LoginThrottle(Key, std::unique_ptr<Database> db, config::Auth settings);
  ~LoginThrottle();
  LoginThrottle(const LoginThrottle&) = delete;
  LoginThrottle& operator=(const LoginThrottle&) = delete;

  void record_failure(std::string_view ip, std::string_view user,
                      Clock::time_point now = Clock::now());
  // Forgets the failures of this user from this address.
  void record_success(std::string_view ip, std::string_view user,
                      Clock::time_point now = Clock::now());
  // How long to wait before answering the next login attempt of `user` from `ip`.
  std::chrono::milliseconds delay_for(std::string_view ip, std::string_view user,
                                      Clock::time_point now = Clock::now());

  // The address as the throttle counts it: IPv6 cut to its /64, IPv4-mapped IPv6 as IPv4.
  static std::string address_key(std::string_view ip);

  // Successful password checks of this process, kept for config::Auth::login_cache.
  LoginCache& verified_logins() { return verified_logins_; }

 private:
  int64_t window_ms() const;
  std::chrono::milliseconds doubling(int64_t count) const;

  std::mutex mutex_;
  std::unique_ptr<Database> db_;
  config::Auth settings_;
  LoginCache verified_logins_;
};

}  // namespace chapar::auth
