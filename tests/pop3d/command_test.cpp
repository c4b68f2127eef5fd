// SPDX-License-Identifier: AGPL-3.0-or-later
#include "pop3d/command.hpp"

#include <doctest/doctest.h>

namespace chapar::pop3 {

TEST_CASE("keywords are found case-insensitively") {
  REQUIRE(find_command("retr") != nullptr);
  CHECK(find_command("retr")->verb == Verb::kRetr);
  CHECK(find_command("Top")->verb == Verb::kTop);
  CHECK(find_command("APOP") == nullptr);
  CHECK(find_command("") == nullptr);
  CHECK(find_command("RETRX") == nullptr);
}

TEST_CASE("a command line splits at single spaces") {
  CommandLine c = parse_command("top 3 10");
  CHECK(c.keyword == "TOP");
  REQUIRE(c.args.size() == 2);
  CHECK(c.args[0] == "3");
  CHECK(c.args[1] == "10");

  CHECK(parse_command("STAT").args.empty());
  CHECK(parse_command("LIST 1  ").args.size() == 1);
  CHECK(parse_command("LIST 1  2").args.size() == 3);
  CHECK(parse_command("").keyword.empty());
}

TEST_CASE("PASS and USER keep the rest of the line as one argument") {
  CommandLine c = parse_command("PASS correct horse  battery ");
  REQUIRE(c.args.size() == 1);
  CHECK(c.args[0] == "correct horse  battery ");
  CHECK(parse_command("PASS").args.empty());
  CHECK(parse_command("PASS ").args.empty());
  CHECK(parse_command("user a b").args.size() == 1);
}

TEST_CASE("numbers are plain decimal digits") {
  CHECK(parse_number("1") == 1u);
  CHECK(parse_number("000123") == 123u);
  CHECK(parse_number("999999999") == 999999999u);
  CHECK_FALSE(parse_number("1234567890"));
  CHECK_FALSE(parse_number(""));
  CHECK_FALSE(parse_number("-1"));
  CHECK_FALSE(parse_number("+1"));
  CHECK_FALSE(parse_number("1a"));
  CHECK_FALSE(parse_number(" 1"));
}

TEST_CASE("the command table is consistent") {
  for (const CommandSpec& spec : kCommands) {
    CHECK(spec.min_args <= spec.max_args);
    CHECK(spec.states != 0);
    CHECK(find_command(spec.name) == &spec);
    CHECK((spec.states & static_cast<uint8_t>(State::kUpdate)) == 0);
  }
}

}  // namespace chapar::pop3
