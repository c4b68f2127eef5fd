// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/text/base64.hpp"

#include <doctest/doctest.h>

namespace chapar::text {
namespace {

TEST_CASE("base64: RFC 4648 §10 test vectors both ways") {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    CHECK(base64_encode(plain) == encoded);
    auto decoded = base64_decode(encoded);
    REQUIRE(decoded.has_value());
    CHECK(*decoded == plain);
    CHECK(base64_decode_lenient(encoded) == plain);
  }
}

TEST_CASE("base64: every byte value round-trips") {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n <= all.size(); n += 37) {
    std::string part = all.substr(0, n);
    CHECK(*base64_decode(base64_encode(part)) == part);
    CHECK(base64_decode_lenient(base64_encode_lines(part, 20)) == part);
  }
}

TEST_CASE("base64: strict decoding rejects anything irregular") {
  for (std::string_view bad : {"Zg", "Zg=", "Zg=x", "Z===", "====", "Zm9v\r\n", " Zm9v",
                               "Zm9v!A==", "Zh==", "Zm9=", "Zg==Zg==", "Zm8=Zm8="}) {
    CAPTURE(bad);
    auto r = base64_decode(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == Errc::kInvalidArgument);
  }
}

TEST_CASE("base64: lenient decoding takes what MIME bodies contain") {
  CHECK(base64_decode_lenient("Zm9v\r\nYmFy\r\n") == "foobar");
  CHECK(base64_decode_lenient(" Zm9v YmFy ") == "foobar");
  CHECK(base64_decode_lenient("Zm9vYg") == "foob");            // padding missing
  CHECK(base64_decode_lenient("Zm9vYg==IGJhcg==") == "foob");  // '=' ends the data
  CHECK(base64_decode_lenient("Zm9vY") == "foo");              // a dangling sextet is dropped
  CHECK(base64_decode_lenient("Zm9v!*YmFy") == "foobar");
  CHECK(base64_decode_lenient("") == "");
}

TEST_CASE("base64: lines of 76 characters with CRLF") {
  std::string data(100, 'x');
  std::string lines = base64_encode_lines(data);
  CHECK(lines.size() == 136 + 2 * 2);
  CHECK(lines.find("\r\n") == 76);
  CHECK(lines.substr(lines.size() - 2) == "\r\n");
  CHECK(base64_encode_lines("") == "");
}

}  // namespace
}  // namespace chapar::text
