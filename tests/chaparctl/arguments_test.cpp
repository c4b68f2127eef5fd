// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/arguments.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace chapar::ctl {
namespace {

Result<Arguments> parse(std::vector<std::string> argv) {
  return parse_arguments(argv);
}

}  // namespace

TEST_CASE("words and options in any order") {
  auto args =
      parse({"--config", "/x.toml", "user", "add", "a@b.test", "--quota=10M", "--password-stdin"});
  REQUIRE(args);
  CHECK(args->words == std::vector<std::string>{"user", "add", "a@b.test"});
  CHECK(args->value("config") == "/x.toml");
  CHECK(args->value("quota") == "10M");
  CHECK(args->has("password-stdin"));
  CHECK(args->value("password-stdin") == "");
  CHECK_FALSE(args->has("dir"));
}

TEST_CASE("a value may look like an option word, and -- ends the options") {
  auto args = parse({"init", "--dir", "--odd-name", "--", "--not-an-option"});
  REQUIRE(args);
  CHECK(args->value("dir") == "--odd-name");
  CHECK(args->words == std::vector<std::string>{"init", "--not-an-option"});
  auto single_dash = parse({"user", "list", "-"});
  REQUIRE(single_dash);
  CHECK(single_dash->words.back() == "-");
  auto help = parse({"-h"});
  REQUIRE(help);
  CHECK(help->has("help"));
}

TEST_CASE("bad options are refused with a reason") {
  struct Case {
    std::vector<std::string> argv;
    std::string message;
  };
  const Case cases[] = {
      {{"--frobnicate"}, "unknown option '--frobnicate'"},
      {{"-x"}, "unknown option '-x'"},
      {{"init", "--dir"}, "option '--dir' needs a value (DIR)"},
      {{"user", "add", "--password-stdin=yes"}, "option '--password-stdin' takes no value"},
      {{"--config", "a", "--config", "b"}, "option '--config' given twice"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.message);
    auto args = parse(c.argv);
    REQUIRE_FALSE(args);
    CHECK(args.error().code == Errc::kInvalidArgument);
    CHECK(args.error().message == c.message);
  }
}

TEST_CASE("sizes: bytes or binary multiples") {
  CHECK(*parse_size("0") == 0);
  CHECK(*parse_size("1234") == 1234);
  CHECK(*parse_size("1K") == 1024);
  CHECK(*parse_size("10m") == 10 * 1024 * 1024);
  CHECK(*parse_size("2G") == 2ull << 30);
  CHECK(*parse_size("1T") == 1ull << 40);
  for (const char* bad :
       {"", "K", "-1", "1.5M", "10 M", "10MB", "x", "99999999999999999999", "20000000000T"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_size(bad));
  }
}

TEST_CASE("numbers within a range") {
  CHECK(*parse_number("0", 0, 10) == 0);
  CHECK(*parse_number("10", 0, 10) == 10);
  CHECK_FALSE(parse_number("11", 0, 10));
  CHECK_FALSE(parse_number("", 0, 10));
  CHECK_FALSE(parse_number("1x", 0, 10));
  CHECK_FALSE(parse_number("-1", 0, 10));
  CHECK(parse_number("11", 0, 10).error().message == "11 is out of range (0 to 10)");
}

}  // namespace chapar::ctl
