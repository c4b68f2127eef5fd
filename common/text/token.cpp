// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/text/token.hpp"

#include <openssl/rand.h>

#include <climits>
#include <cstdio>
#include <cstdlib>

namespace chapar::text {

void random_bytes(void* out, size_t size) {
  auto* p = static_cast<unsigned char*>(out);
  while (size > 0) {
    int chunk = size > INT_MAX ? INT_MAX : static_cast<int>(size);
    if (RAND_bytes(p, chunk) != 1) {
      std::fputs("level=error event=random_generator_failed\n", stderr);
      std::abort();
    }
    p += chunk;
    size -= static_cast<size_t>(chunk);
  }
}

std::string random_token(size_t length) {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string out(length, '\0');
  random_bytes(out.data(), out.size());
  // 32 symbols: the low five bits of a uniform byte are uniform, so there is no bias.
  for (char& c : out) c = kAlphabet[static_cast<unsigned char>(c) & 31];
  return out;
}

}  // namespace chapar::text
