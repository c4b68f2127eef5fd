// SPDX-License-Identifier: AGPL-3.0-or-later
// Password hashes in crypt(3) format through libxcrypt. Hashing and verifying are slow on
// purpose (yescrypt, bcrypt): call them off the event loop (SessionHost::run_blocking).
// Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace chapar::auth {

// A new yescrypt hash ("$y$...") with libxcrypt's default cost and a fresh random salt.
// Fails with kInvalidArgument for a password containing NUL, kInternal if libxcrypt fails.
Result<std::string> hash_password(std::string_view password);

// Whether `password` matches `hash`, which may be yescrypt ($y$), bcrypt ($2b$) or
// SHA-crypt ($6$, $5$) so that accounts from other systems keep their passwords. The hashes
// are compared in constant time. For an empty, unsupported or malformed `hash` (an unknown
// user, a locked account) the password is checked against a fixed dummy hash and the answer
// is false: the time taken does not reveal which accounts exist.
bool verify_password(std::string_view password, std::string_view hash);

// Whether `hash` is in one of the formats verify_password accepts.
bool is_supported_hash(std::string_view hash);

// The yescrypt hash that stands in for a missing one.
std::string_view dummy_password_hash();

}  // namespace chapar::auth
