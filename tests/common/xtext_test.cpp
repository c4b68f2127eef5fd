// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/text/xtext.hpp"

#include <doctest/doctest.h>

namespace chapar::text {
namespace {

TEST_CASE("xtext: encoding escapes '+', '=', controls, space and 8-bit octets") {
  CHECK(xtext_encode("rfc822;bob@example.org") == "rfc822;bob@example.org");
  CHECK(xtext_encode("a+b=c") == "a+2Bb+3Dc");
  CHECK(xtext_encode("two words") == "two+20words");
  CHECK(xtext_encode(std::string("\x01\x7f\xff", 3)) == "+01+7F+FF");
  CHECK(xtext_encode("") == "");
}

TEST_CASE("xtext: decoding") {
  CHECK(*xtext_decode("rfc822;bob+2Btag@example.org") == "rfc822;bob+tag@example.org");
  CHECK(*xtext_decode("+3D+20") == "= ");
  CHECK(*xtext_decode("+2b") == "+");  // lower-case hex from lax clients
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  CHECK(*xtext_decode(xtext_encode(all)) == all);
}

TEST_CASE("xtext: malformed input is rejected") {
  for (std::string_view bad : {"+", "a+2", "+G0", "+2G", "a b", "a=b", "tab\there", "\xc3\xa9"}) {
    CAPTURE(bad);
    auto r = xtext_decode(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == Errc::kInvalidArgument);
  }
}

}  // namespace
}  // namespace chapar::text
