// SPDX-License-Identifier: AGPL-3.0-or-later
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "imapd/command_reader.hpp"
#include "tests/support/test_dir.hpp"

namespace chapar::imap {
namespace {

using Event = CommandReader::Event;

// Feeds `chunks` the way a session does and records what the reader reports.
std::vector<std::string> run(const std::vector<std::string_view>& chunks, ReaderLimits limits = {},
                             std::function<std::shared_ptr<store::Spool>()> spool = {}) {
  CommandReader reader(limits, std::move(spool));
  std::vector<std::string> events;
  std::string buffer;
  for (std::string_view chunk : chunks) {
    buffer.append(chunk);
    for (;;) {
      CommandReader::Step step = reader.next(buffer);
      buffer.erase(0, step.consumed);
      if (step.event == Event::kNeedMore) break;
      switch (step.event) {
        case Event::kContinue:
          events.push_back("+");
          break;
        case Event::kCommand: {
          RawCommand cmd = reader.take();
          std::string e = "cmd " + cmd.text;
          for (const Literal& l : cmd.literals) {
            e += "|" + (l.spool ? std::string(l.spool->view()) : l.bytes);
            if (l.binary) e += "~";
          }
          events.push_back(e);
          break;
        }
        case Event::kLiteralRefused:
          events.push_back("refused " + reader.tag() + (reader.refused_append() ? " append" : ""));
          break;
        case Event::kDiscarded:
          events.push_back("discarded " + reader.tag());
          break;
        case Event::kNeedMore:
          break;
      }
    }
  }
  if (!buffer.empty()) events.push_back("left " + buffer);
  return events;
}

// The same events whole, split at every point, and one byte at a time.
std::string join(const std::vector<std::string>& events) {
  std::string out;
  for (const std::string& e : events) out += e + "\n";
  return out;
}

void check_all_splits(std::string_view input, const std::vector<std::string>& events,
                      ReaderLimits limits = {},
                      std::function<std::shared_ptr<store::Spool>()> spool = {}) {
  const std::string expected = join(events);
  CHECK(join(run({input}, limits, spool)) == expected);
  for (size_t i = 1; i < input.size(); ++i) {
    INFO("split at " << i);
    CHECK(join(run({input.substr(0, i), input.substr(i)}, limits, spool)) == expected);
  }
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
  CHECK(join(run(bytes, limits, spool)) == expected);
}

TEST_CASE("reader: plain commands, pipelined") {
  check_all_splits("a1 NOOP\r\na2 CAPABILITY\r\n", {"cmd a1 NOOP", "cmd a2 CAPABILITY"});
  check_all_splits("a1 NOOP\na2 LOGOUT\r\n", {"cmd a1 NOOP", "cmd a2 LOGOUT"});
}

TEST_CASE("reader: an incomplete line is not taken") {
  CommandReader reader({});
  CommandReader::Step step = reader.next("a1 NOO");
  CHECK(step.event == Event::kNeedMore);
  CHECK(step.consumed == 0);
}

TEST_CASE("reader: synchronizing, non-synchronizing and binary literals") {
  check_all_splits("a LOGIN {3}\r\nbob {5+}\r\nsecre\r\nb NOOP\r\n",
                   {"+", "cmd a LOGIN {3}\r\n {5+}\r\n|bob|secre", "cmd b NOOP"});
  check_all_splits(std::string_view("a APPEND INBOX ~{4}\r\na\0b\n\r\n", 27),
                   {"+", std::string("cmd a APPEND INBOX ~{4}\r\n|a\0b\n~", 31)});
  check_all_splits("a LOGIN {0}\r\n {0+}\r\n\r\n", {"+", "cmd a LOGIN {0}\r\n {0+}\r\n||"});
}

TEST_CASE("reader: a brace inside a quoted string announces nothing") {
  check_all_splits("a LOGIN bob \"x{3}\"\r\n", {"cmd a LOGIN bob \"x{3}\""});
  check_all_splits("a LOGIN bob \"x\\\"{3}\"\r\n", {"cmd a LOGIN bob \"x\\\"{3}\""});
}

TEST_CASE("reader: command length limit") {
  ReaderLimits limits{20, 100};
  check_all_splits("a NOOP\r\n", {"cmd a NOOP"}, limits);
  // A line over the limit is not kept: it is thrown away as it comes, then refused.
  CHECK(run({"a SEARCH SUBJECT xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}, limits).empty());
  check_all_splits("a SEARCH SUBJECT xxxxxx\r\nb NOOP\r\n", {"discarded a", "cmd b NOOP"}, limits);
  // Including the literals it announces.
  check_all_splits("a SEARCH SUBJECT xxxxxxxxxxxxxxx {3+}\r\nabc\r\nb NOOP\r\n",
                   {"discarded a", "cmd b NOOP"}, limits);
  // Literals of commands other than APPEND count towards the command length.
  check_all_splits("a LOGIN {30}\r\nb NOOP\r\n", {"refused a", "cmd b NOOP"}, limits);
  check_all_splits("a LOGIN {30+}\r\n012345678901234567890123456789\r\nb NOOP\r\n",
                   {"discarded a", "cmd b NOOP"}, limits);
}

TEST_CASE("reader: APPEND literal limit is refused before the continuation") {
  ReaderLimits limits{100, 10};
  check_all_splits("a APPEND INBOX {11}\r\nb NOOP\r\n", {"refused a append", "cmd b NOOP"}, limits);
  check_all_splits("a APPEND INBOX {10}\r\n0123456789\r\n",
                   {"+", "cmd a APPEND INBOX {10}\r\n|0123456789"}, limits);
  // Non-synchronizing: read, dropped, including the other messages of a MULTIAPPEND.
  check_all_splits("a APPEND INBOX {11+}\r\n01234567890 {2+}\r\nxy\r\nb NOOP\r\n",
                   {"discarded a", "cmd b NOOP"}, limits);
  // Overflowing sizes are refused, not wrapped.
  check_all_splits("a APPEND INBOX {99999999999999999999999}\r\n", {"refused a append"}, limits);
}

TEST_CASE("reader: APPEND literals go to a spool") {
  test::TestDir dir;
  auto make = [&] { return std::make_shared<store::Spool>(dir.path(), 4); };
  check_all_splits("a APPEND INBOX {10}\r\n0123456789 {3}\r\nabc\r\n",
                   {"+", "+", "cmd a APPEND INBOX {10}\r\n {3}\r\n|0123456789|abc"}, {}, make);
}

}  // namespace
}  // namespace chapar::imap
