// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/text/ascii.hpp"

#include <map>

#include <doctest/doctest.h>

namespace chapar::text {
namespace {

TEST_CASE("ascii: case folding touches ASCII letters only") {
  CHECK(ascii_lowercase("MAIL From:<Bob@Example.ORG>") == "mail from:<bob@example.org>");
  CHECK(ascii_uppercase("uid fetch 1:*") == "UID FETCH 1:*");
  CHECK(ascii_lowercase("\xc3\x89T\xc3\x89") == "\xc3\x89t\xc3\x89");
  CHECK(ascii_lower('@') == '@');
  CHECK(ascii_upper('[') == '[');
}

TEST_CASE("ascii: case-insensitive comparison") {
  CHECK(iequals("INBOX", "inbox"));
  CHECK_FALSE(iequals("INBOX", "inbox2"));
  CHECK_FALSE(iequals("\xc3\xa9", "\xc3\x89"));
  CHECK(icompare("abc", "ABD") < 0);
  CHECK(icompare("abd", "ABC") > 0);
  CHECK(icompare("ab", "ABC") < 0);
  CHECK(icompare("", "") == 0);
  CHECK(istarts_with("STARTTLS", "start"));
  CHECK_FALSE(istarts_with("ST", "start"));
  CHECK(iends_with("bob@EXAMPLE.org", "@example.ORG"));
  CHECK(ifind("Subject: Hello World", "WORLD") == 15);
  CHECK(ifind("aaa", "AA", 1) == 1);
  CHECK(ifind("abc", "") == 0);
  CHECK(ifind("abc", "abcd") == std::string_view::npos);
  CHECK(ifind("abc", "a", 4) == std::string_view::npos);
  static_assert(iequals("Hello", "hELLO"));
}

TEST_CASE("ascii: a map keyed case-insensitively") {
  std::map<std::string, int, ILess> m;
  m["Content-Type"] = 1;
  CHECK(m.count("content-type") == 1);
  CHECK(m.find(std::string_view("CONTENT-TYPE")) != m.end());
  m["CONTENT-TYPE"] = 2;
  CHECK(m.size() == 1);
}

}  // namespace
}  // namespace chapar::text
