// SPDX-License-Identifier: AGPL-3.0-or-later
// Unpredictable identifiers (Message-IDs, queue ids, SASL nonces) from OpenSSL's CSPRNG.
#pragma once

#include <cstddef>
#include <string>

namespace chapar::text {

// `length` characters of [a-z2-7] (5 random bits each; the default carries 130 bits).
// Aborts the process if the random generator fails: nothing secure can be done then.
std::string random_token(size_t length = 26);

// Fills `size` octets at `out` with random bytes; aborts like random_token().
void random_bytes(void* out, size_t size);

}  // namespace chapar::text
