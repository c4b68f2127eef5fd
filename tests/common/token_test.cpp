// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/text/token.hpp"

#include <set>

#include <doctest/doctest.h>

namespace chapar::text {
namespace {

TEST_CASE("token: the requested length from the base32 alphabet, never repeating") {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string t = random_token();
    CHECK(t.size() == 26);
    CHECK(t.find_first_not_of("abcdefghijklmnopqrstuvwxyz234567") == std::string::npos);
    seen.insert(t);
  }
  CHECK(seen.size() == 200);
  CHECK(random_token(5).size() == 5);
  CHECK(random_token(0).empty());
}

TEST_CASE("token: every symbol occurs") {
  std::string t = random_token(4096);
  std::set<char> symbols(t.begin(), t.end());
  CHECK(symbols.size() == 32);
}

}  // namespace
}  // namespace chapar::text
