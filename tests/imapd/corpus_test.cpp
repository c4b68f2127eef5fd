// SPDX-License-Identifier: AGPL-3.0-or-later
// The corpus check through the session: every message of the corpus APPENDed, then every
// FETCH the reference server was asked answered byte for byte as it answered. Departures:
// - base64 cut off inside a quantum makes BINARY.SIZE fail with NO [PARSE] here, where
//   Dovecot drops the connection (an internal error there; RFC 3516 §4.3 asks for a failed
//   FETCH, not a lost session);
// - RFC 3516 §4.2: BINARY.SIZE is the size of the decoded section. Dovecot miscounts it for
//   some parts (tests/store/mime_corpus.cpp explains how); ours must then equal the length
//   of what BINARY[section] returns.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "tests/imapd/imap_fixture.hpp"

namespace chapar::imap::test {
namespace {

struct Block {
  std::string command;                 // after the tag, with its CRLF
  std::vector<std::string> responses;  // each "* ..." with its CRLF
  std::string result;                  // "OK Fetch completed."
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// FORMAT.md: an item is lines, each ending in CRLF; a line ending in {N} or ~{N} is followed
// by N octets of literal.
std::string read_item(const std::string& data, size_t& pos) {
  static const std::regex kLiteral(R"(~?\{(\d+)\}\r\n$)");
  std::string item;
  for (;;) {
    size_t end = data.find("\r\n", pos);
    REQUIRE(end != std::string::npos);
    std::string line = data.substr(pos, end + 2 - pos);
    pos = end + 2;
    item += line;
    std::smatch m;
    if (!std::regex_search(line, m, kLiteral)) return item;
    size_t n = std::stoul(m[1]);
    item += data.substr(pos, n);
    pos += n;
  }
}

std::vector<Block> parse_expected(const std::string& data) {
  std::vector<Block> blocks;
  size_t pos = 0;
  while (pos < data.size()) {
    REQUIRE(data.compare(pos, 3, "C: ") == 0);
    pos += 3;
    Block b;
    b.command = read_item(data, pos);
    while (data.compare(pos, 3, "S: ") == 0) {
      pos += 3;
      b.responses.push_back(read_item(data, pos));
    }
    REQUIRE(data.compare(pos, 3, "R: ") == 0);
    size_t end = data.find("\r\n", pos);
    b.result = data.substr(pos + 3, end - pos - 3);
    pos = end + 2;
    REQUIRE(data.compare(pos, 2, "\r\n") == 0);
    pos += 2;
    blocks.push_back(std::move(b));
  }
  return blocks;
}

TEST_CASE("imap corpus: APPEND, then FETCH answers as the reference server's") {
  auto corpus = chapar::test::corpus_dir();
  if (!corpus) {
    MESSAGE("the corpus is not beside this checkout; skipping the corpus check");
    return;
  }
  std::vector<std::filesystem::path> messages;
  for (const auto& e : std::filesystem::directory_iterator(*corpus / "open")) {
    if (e.path().extension() == ".eml") messages.push_back(e.path());
  }
  std::sort(messages.begin(), messages.end());
  REQUIRE_FALSE(messages.empty());

  ImapFixture f;
  auto host = f.open();
  host->feed("l LOGIN alice@example.org secret\r\n");
  host->feed("s SELECT Archive\r\n");
  host->take_output();
  size_t checked = 0;
  size_t departures = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string uid = std::to_string(i + 1);
    const std::string content = read_file(messages[i]);
    host->feed(
        fmt::format("a APPEND Archive \"01-Jan-2020 00:00:00 +0000\" {{{}+}}\r\n", content.size()));
    host->feed(content);
    host->feed("\r\n");
    std::string appended = host->take_output();
    INFO(messages[i].filename().string());
    REQUIRE_MESSAGE(appended.find("a OK [APPENDUID ") != std::string::npos, appended);

    std::filesystem::path expected_path = messages[i];
    expected_path.replace_extension(".expected");
    const std::string number = std::to_string(std::stoul(messages[i].stem().string()));
    for (const Block& block : parse_expected(read_file(expected_path))) {
      // The recording's UID and sequence number are the file number; here they are `uid`.
      std::string command = std::regex_replace(
          block.command, std::regex("^UID FETCH " + number + " "), "UID FETCH " + uid + " ");
      const bool closed = block.result == "(connection closed)";
      std::string want;
      for (const std::string& r : block.responses) {
        if (closed && r.starts_with("* BYE ")) continue;
        std::string response = r;
        const std::string prefix = "* " + number + " FETCH (UID " + number;
        if (response.compare(0, prefix.size(), prefix) == 0) {
          response = "* " + uid + " FETCH (UID " + uid + response.substr(prefix.size());
        }
        want += response;
      }
      std::string result = block.result;
      if (closed) result = "NO [PARSE] Invalid data in MIME part.";
      want += "t " + result + "\r\n";
      host->feed("t " + command);
      std::string got = host->take_output();
      INFO(command);
      static const std::regex kBinarySize(R"(^UID FETCH \d+ \(BINARY\.SIZE\[([0-9.]+)\]\)\r\n$)");
      static const std::regex kSize(R"(BINARY\.SIZE\[[0-9.]+\] (\d+)\))");
      std::smatch section, size;
      if (got != want && std::regex_match(command, section, kBinarySize) &&
          std::regex_search(got, size, kSize)) {
        host->feed(fmt::format("t UID FETCH {} (BINARY.PEEK[{}])\r\n", uid, section[1].str()));
        std::string binary = host->take_output();
        static const std::regex kLiteral(R"(BINARY\[[0-9.]+\] ~?\{(\d+)\}\r\n)");
        std::smatch literal;
        REQUIRE(std::regex_search(binary, literal, kLiteral));
        CHECK(literal[1].str() == size[1].str());
        ++departures;
        continue;
      }
      CHECK(got == want);
      ++checked;
    }
  }
  MESSAGE("corpus blocks checked: " << checked << ", BINARY.SIZE departures: " << departures);
}

}  // namespace
}  // namespace chapar::imap::test
