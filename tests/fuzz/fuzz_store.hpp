// SPDX-License-Identifier: AGPL-3.0-or-later
// The real store for session fuzzing. A template store (a domain, accounts, an alias and a
// few messages, one of them multipart) is made once per process; every input gets a fresh
// copy of it, so that an input does the same thing however many ran before it.
//
// The copies live on /dev/shm when it is writable (the store's fsyncs then cost nothing)
// and otherwise in the system temporary directory; everything is removed at exit.
#pragma once

#include <filesystem>
#include <memory>

#include "common/auth/throttle.hpp"
#include "common/config.hpp"
#include "libmailstore/store.hpp"

namespace chapar::fuzz {

inline constexpr const char* kPassword = "secret";
inline constexpr const char* kAlice = "alice@example.org";  // holds the template's messages
inline constexpr const char* kBob = "bob@example.org";      // an empty INBOX
inline constexpr const char* kCarol = "carol@example.org";  // disabled

// A configuration with small limits, so that inputs reach every limit quickly.
config::Config fuzz_config();

class FuzzStore {
 public:
  // Builds the template (aborts when the store cannot be made: nothing can be fuzzed then).
  FuzzStore();
  ~FuzzStore();
  FuzzStore(const FuzzStore&) = delete;
  FuzzStore& operator=(const FuzzStore&) = delete;

  // A fresh copy of the template, opened; the previous copy is closed first.
  void reset();
  // Closes the copy, joining the store's writer thread, so that nothing runs between inputs
  // (libFuzzer's leak check after an input must not race a commit still finishing).
  void close();

  const config::Config& config() const { return config_; }
  store::Store& store() { return *store_; }
  auth::LoginThrottle& throttle() { return *throttle_; }

 private:
  std::filesystem::path root_;
  config::Config config_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<auth::LoginThrottle> throttle_;
};

}  // namespace chapar::fuzz
