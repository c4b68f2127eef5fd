// SPDX-License-Identifier: AGPL-3.0-or-later
// Hostile input: thousands of generated commands, valid and not, in every state. The session
// must answer each with a tagged or untagged response and never crash (the suite runs under
// ASan and UBSan).
#include <doctest/doctest.h>

#include <array>
#include <random>

#include "tests/imapd/imap_fixture.hpp"

namespace chapar::imap::test {
namespace {

constexpr std::array<const char*, 40> kWords = {
    "FETCH",     "UID",        "STORE",
    "SEARCH",    "SELECT",     "EXAMINE",
    "LIST",      "LSUB",       "STATUS",
    "APPEND",    "COPY",       "MOVE",
    "EXPUNGE",   "CLOSE",      "UNSELECT",
    "IDLE",      "ENABLE",     "NOOP",
    "CREATE",    "DELETE",     "RENAME",
    "SUBSCRIBE", "ID",         "NAMESPACE",
    "CHECK",     "1:*",        "*",
    "$",         "BODY[]",     "BODY.PEEK[1.2.MIME]<0.5>",
    "BINARY[1]", "FLAGS",      "+FLAGS.SILENT",
    "\\Seen",    "INBOX",      "(",
    ")",         "\"q\\\"x\"", "NIL",
    "RETURN"};

std::string random_command(std::mt19937& rng, int n) {
  std::uniform_int_distribution<int> pick(0, static_cast<int>(kWords.size()) - 1);
  std::uniform_int_distribution<int> length(0, 8);
  std::uniform_int_distribution<int> kind(0, 19);
  std::string line = "t" + std::to_string(n);
  int words = length(rng);
  for (int i = 0; i < words; ++i) {
    line.push_back(' ');
    switch (kind(rng)) {
      case 0:
        line += "{3+}\r\nabc";
        break;
      case 1:
        line += std::to_string(rng() % 5000);
        break;
      case 2:
        line.push_back(static_cast<char>(rng() % 256 | 1));  // any octet but NUL
        break;
      case 3:
        line += "[" + std::string(kWords[pick(rng)]);
        break;
      default:
        line += kWords[pick(rng)];
    }
  }
  return line + "\r\n";
}

TEST_CASE("imap: generated nonsense never crashes the session") {
  ImapFixture f;
  std::mt19937 rng(20240301);
  for (int round = 0; round < 6; ++round) {
    auto host = f.open();
    if (round % 2 == 1) host->feed("l LOGIN alice@example.org secret\r\ns SELECT INBOX\r\n");
    for (int n = 0; n < 300 && !host->closed(); ++n) {
      host->feed(random_command(rng, n));
      // A client in IDLE or AUTHENTICATE leaves them, so that every command is answered.
      host->feed("DONE\r\n*\r\n");
    }
    host->take_output();
    host->disconnect();
    f.reset();
  }
}

}  // namespace
}  // namespace chapar::imap::test
