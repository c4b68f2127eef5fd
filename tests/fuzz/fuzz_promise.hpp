// SPDX-License-Identifier: AGPL-3.0-or-later
// What every fuzz target uses to state a promise the code under test must keep: a broken
// one aborts, which libFuzzer reports as a crash with the input that broke it.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace chapar::fuzz {

inline void require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "broken promise: %s\n", what);
    std::abort();
  }
}

}  // namespace chapar::fuzz
