// SPDX-License-Identifier: AGPL-3.0-or-later
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/net/line_reader.hpp"

namespace chapar::net {
namespace {

// Renders each line as "L:text", "B:text" (bare LF) or "O:prefix" (overlong).
std::vector<std::string> drain(LineReader& reader, size_t& peak) {
  std::vector<std::string> out;
  while (auto line = reader.next()) {
    std::string kind = line->overlong ? "O:" : line->bare_lf ? "B:" : "L:";
    out.push_back(kind + std::string(line->text));
  }
  peak = std::max(peak, reader.buffered());
  return out;
}

std::vector<std::string> run(LineReaderOptions options, const std::vector<std::string>& chunks,
                             size_t* peak_out = nullptr) {
  LineReader reader(options);
  std::vector<std::string> lines;
  size_t peak = 0;
  for (const std::string& chunk : chunks) {
    reader.feed(chunk);
    for (auto& line : drain(reader, peak)) lines.push_back(line);
  }
  if (peak_out) *peak_out = peak;
  lines.push_back("rest:" + std::string(reader.peek()));
  return lines;
}

// Whole, split in two at every point, and a byte at a time: the lines must be the same.
void check_every_split(LineReaderOptions options, const std::string& input,
                       const std::vector<std::string>& expected) {
  CHECK(run(options, {input}) == expected);
  for (size_t i = 0; i <= input.size(); ++i) {
    CAPTURE(i);
    CHECK(run(options, {input.substr(0, i), input.substr(i)}) == expected);
  }
  std::vector<std::string> bytes;
  for (char c : input) bytes.emplace_back(1, c);
  size_t peak = 0;
  CHECK(run(options, bytes, &peak) == expected);
  CHECK(peak <= options.max_length);
}

TEST_CASE("line reader: CRLF lines, a partial line stays buffered") {
  check_every_split({.max_length = 100}, "HELO a\r\nMAIL FROM:<>\r\n\r\nRCPT",
                    {"L:HELO a", "L:MAIL FROM:<>", "L:", "rest:RCPT"});
}

TEST_CASE("line reader: bare LF ends a line when allowed, flagged") {
  check_every_split({.max_length = 100, .bare_lf_ends_line = true}, "a\nb\r\nc\r\r\n",
                    {"B:a", "L:b", "L:c\r", "rest:"});
}

TEST_CASE("line reader: bare LF is data when only CRLF ends lines") {
  check_every_split({.max_length = 100, .bare_lf_ends_line = false}, "a\nb\r\n.\n\r\n",
                    {"L:a\nb", "L:.\n", "rest:"});
}

TEST_CASE("line reader: the limit counts the terminator") {
  // max 6: "abcd\r\n" fits, "abcde\r\n" does not.
  check_every_split({.max_length = 6}, "abcd\r\nabcde\r\nok\r\n",
                    {"L:abcd", "O:abcde\r", "L:ok", "rest:"});
  check_every_split({.max_length = 5}, "abcd\nabcde\n", {"B:abcd", "O:abcde", "rest:"});
}

TEST_CASE("line reader: an overlong line is reported once, at its end, and not buffered") {
  std::string input = "GOOD\r\n" + std::string(5000, 'x') + "\r\nNEXT\r\n";
  check_every_split({.max_length = 64}, input,
                    {"L:GOOD", "O:" + std::string(64, 'x'), "L:NEXT", "rest:"});
}

TEST_CASE("line reader: an overlong line still open keeps memory bounded") {
  LineReader reader({.max_length = 100});
  for (int i = 0; i < 1000; ++i) {
    reader.feed(std::string(1000, 'y'));
    CHECK_FALSE(reader.next().has_value());
    REQUIRE(reader.buffered() <= 100);
  }
  reader.feed("\r\nafter\r\n");
  auto line = reader.next();
  REQUIRE(line.has_value());
  CHECK(line->overlong);
  CHECK(line->text == std::string(100, 'y'));
  line = reader.next();
  REQUIRE(line.has_value());
  CHECK(line->text == "after");
}

TEST_CASE("line reader: CR at the limit followed by LF in the next read") {
  check_every_split({.max_length = 4, .bare_lf_ends_line = false}, "abcdef\r\nz\r\n",
                    {"O:abcd", "L:z", "rest:"});
}

TEST_CASE("line reader: counted reads between lines") {
  LineReader reader({.max_length = 100});
  reader.feed("A APPEND x {5}\r\nhello");
  auto line = reader.next();
  REQUIRE(line.has_value());
  CHECK(line->text == "A APPEND x {5}");
  reader.feed(" world)\r\n");
  CHECK(reader.peek().substr(0, 5) == "hello");
  reader.consume(5);
  line = reader.next();
  REQUIRE(line.has_value());
  CHECK(line->text == " world)");
  CHECK(reader.buffered() == 0);
}

TEST_CASE("line reader: clear drops buffered input and an overlong line in progress") {
  LineReader reader({.max_length = 10});
  reader.feed("STARTTLS\r\nRSET\r\n" + std::string(50, 'z'));
  REQUIRE(reader.next()->text == "STARTTLS");
  reader.clear();
  CHECK(reader.buffered() == 0);
  reader.feed("EHLO\r\n");
  auto line = reader.next();
  REQUIRE(line.has_value());
  CHECK_FALSE(line->overlong);
  CHECK(line->text == "EHLO");
}

TEST_CASE("line reader: many small lines do not grow the buffer") {
  LineReader reader({.max_length = 100});
  for (int i = 0; i < 10000; ++i) {
    reader.feed("NOOP\r\n");
    REQUIRE(reader.next().has_value());
  }
  CHECK(reader.buffered() == 0);
}

}  // namespace
}  // namespace chapar::net
