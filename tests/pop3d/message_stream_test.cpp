// SPDX-License-Identifier: AGPL-3.0-or-later
#include "pop3d/message_stream.hpp"

#include <doctest/doctest.h>

#include <string>

namespace chapar::pop3 {
namespace {

// Runs the stream over `stored` split into pieces of `piece` octets.
std::string run(std::string_view stored, std::optional<uint32_t> lines, size_t piece) {
  MessageStream stream(lines);
  std::string out;
  for (size_t pos = 0; pos < stored.size(); pos += piece) {
    if (!stream.feed(stored.substr(pos, piece), out)) break;
  }
  stream.finish(out);
  return out;
}

void check_all_splits(std::string_view stored, std::optional<uint32_t> lines,
                      std::string_view expected) {
  for (size_t piece = 1; piece <= stored.size() + 1; ++piece) {
    CHECK_MESSAGE(run(stored, lines, piece) == expected, "pieces of " << piece);
  }
}

constexpr std::string_view kMessage =
    "From: a@example.org\r\n"
    "Subject: dots\r\n"
    "\r\n"
    ".first\r\n"
    "second.\r\n"
    "..third\r\n"
    ".\r\n"
    "last\r\n";

}  // namespace

TEST_CASE("RETR sends the message byte-stuffed and terminated") {
  check_all_splits(kMessage, std::nullopt,
                   "From: a@example.org\r\n"
                   "Subject: dots\r\n"
                   "\r\n"
                   "..first\r\n"
                   "second.\r\n"
                   "...third\r\n"
                   "..\r\n"
                   "last\r\n"
                   ".\r\n");
}

TEST_CASE("a message without a final line end gets one before the terminator") {
  check_all_splits("Subject: x\r\n\r\nno end", std::nullopt, "Subject: x\r\n\r\nno end\r\n.\r\n");
  check_all_splits("", std::nullopt, ".\r\n");
  check_all_splits(".", std::nullopt, "..\r\n.\r\n");
}

TEST_CASE("TOP sends the header, the blank line and n body lines") {
  check_all_splits(kMessage, 0u, "From: a@example.org\r\nSubject: dots\r\n\r\n.\r\n");
  check_all_splits(kMessage, 2u,
                   "From: a@example.org\r\nSubject: dots\r\n\r\n..first\r\nsecond.\r\n.\r\n");
  check_all_splits(kMessage, 5u,
                   "From: a@example.org\r\nSubject: dots\r\n\r\n..first\r\nsecond.\r\n"
                   "...third\r\n..\r\nlast\r\n.\r\n");
  check_all_splits(kMessage, 100u,
                   "From: a@example.org\r\nSubject: dots\r\n\r\n..first\r\nsecond.\r\n"
                   "...third\r\n..\r\nlast\r\n.\r\n");
}

TEST_CASE("TOP of a message with no body sends the whole header") {
  check_all_splits("Subject: only\r\nX: y\r\n", 3u, "Subject: only\r\nX: y\r\n.\r\n");
  check_all_splits("Subject: only\r\n\r\n", 0u, "Subject: only\r\n\r\n.\r\n");
}

TEST_CASE("a header line that looks blank only after folding does not end the header") {
  check_all_splits("A: b\r\n \r\nC: d\r\n\r\nbody\r\nmore\r\n", 1u,
                   "A: b\r\n \r\nC: d\r\n\r\nbody\r\n.\r\n");
}

}  // namespace chapar::pop3
