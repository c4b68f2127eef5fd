// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/address.hpp"

#include <doctest/doctest.h>

#include <string>

namespace chapar::ctl {

TEST_CASE("domains are lower-cased and checked label by label") {
  CHECK(*normalize_domain("Example.TEST") == "example.test");
  CHECK(*normalize_domain("localhost") == "localhost");
  CHECK(*normalize_domain("a-b.c0.example") == "a-b.c0.example");
  CHECK(*normalize_domain("xn--bcher-kva.example") == "xn--bcher-kva.example");
  CHECK(*normalize_domain("1.example") == "1.example");
  CHECK(normalize_domain(std::string(63, 'a') + ".test"));

  const char* bad[] = {"",          ".",           "example..test",
                       ".example",  "example.",    "-a.test",
                       "a-.test",   "a_b.test",    "a b.test",
                       "192.0.2.1", "[192.0.2.1]", "example.123",
                       "bücher.de", "a@b.test",    "a/b"};
  for (const char* text : bad) {
    CAPTURE(text);
    auto result = normalize_domain(text);
    REQUIRE_FALSE(result);
    CHECK(result.error().code == Errc::kInvalidArgument);
  }
  CHECK_FALSE(normalize_domain(std::string(64, 'a') + ".test"));
  std::string long_name;
  while (long_name.size() < 254) long_name += "abcdefghi.";
  long_name += "test";
  CHECK_FALSE(normalize_domain(long_name));
  CHECK(normalize_domain("bücher.de").error().message.find("xn--") != std::string::npos);
}

TEST_CASE("local parts are dot-atoms without '+'") {
  for (const char* good : {"alice", "a.b", "o'neil", "x_y-z", "!#$%&*/=?^`{|}~", "A1"}) {
    CAPTURE(good);
    CHECK(check_local_part(good));
  }
  for (const char* bad : {"", ".a", "a.", "a..b", "a b", "a\"b", "a(b)", "a,b", "a:b", "a;b", "a<b",
                          "a\\b", "a@b", "a[b]", "al+ice", "é"}) {
    CAPTURE(bad);
    CHECK_FALSE(check_local_part(bad));
  }
  CHECK(check_local_part(std::string(64, 'a')));
  CHECK_FALSE(check_local_part(std::string(65, 'a')));
  CHECK(check_local_part("al+ice").error().message.find("plus-addressing") != std::string::npos);
}

TEST_CASE("addresses keep the local part and lower-case the domain") {
  auto address = parse_address("Alice.Smith@Example.Test");
  REQUIRE(address);
  CHECK(address->local_part == "Alice.Smith");
  CHECK(address->domain == "example.test");
  CHECK(address->text() == "Alice.Smith@example.test");

  for (const char* bad :
       {"alice", "@example.test", "alice@", "alice@@example.test", "a@b@example.test",
        "alice@exa mple.test", "<alice@example.test>", "alice@example.test\n"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_address(bad));
  }
}

TEST_CASE("alias sources: an address or a catch-all") {
  auto catch_all = parse_alias_source("@Example.test");
  REQUIRE(catch_all);
  CHECK(catch_all->local_part.empty());
  CHECK(catch_all->text() == "@example.test");
  auto exact = parse_alias_source("sales@example.test");
  REQUIRE(exact);
  CHECK(exact->text() == "sales@example.test");
  CHECK_FALSE(parse_alias_source("@"));
  CHECK_FALSE(parse_alias_source("sales"));
  CHECK_FALSE(parse_alias_source("@@example.test"));
}

TEST_CASE("error messages do not carry control characters") {
  auto result = parse_address("a\x1b[2Jb@example.test");
  REQUIRE_FALSE(result);
  for (char c : result.error().message) CHECK(static_cast<unsigned char>(c) >= 0x20);
}

}  // namespace chapar::ctl
