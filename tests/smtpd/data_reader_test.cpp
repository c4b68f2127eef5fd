// SPDX-License-Identifier: AGPL-3.0-or-later
#include "smtpd/data_reader.hpp"

#include <doctest/doctest.h>

#include <vector>

#include "tests/support/test_dir.hpp"

namespace chapar::smtp {
namespace {

struct Outcome {
  std::string content;
  size_t consumed = 0;
  bool done = false;
  bool too_big = false;
  bool line_too_long = false;
  uint64_t size = 0;

  bool operator==(const Outcome&) const = default;
};

constexpr DataReader::Limits kRoomy{1 << 20, 1000};

// Feeds `input` in the given chunks (a chunk boundary at each offset in `cuts`), stopping like
// a session does once the reader reports the end.
Outcome read(const test::TestDir& dir, std::string_view input, const std::vector<size_t>& cuts,
             DataReader::Limits limits = kRoomy, bool after_crlf = true) {
  auto spool = std::make_shared<store::Spool>(dir.path(), 4096);
  DataReader reader(spool, limits, after_crlf);
  Outcome out;
  size_t start = 0;
  std::vector<size_t> bounds = cuts;
  bounds.push_back(input.size());
  for (size_t end : bounds) {
    while (start < end && !reader.done()) start += reader.feed(input.substr(start, end - start));
    if (reader.done()) break;
  }
  REQUIRE(reader.spool_status());
  REQUIRE(spool->finish());
  // What a refused message left in the spool depends on where its input was split; it is
  // never used.
  if (!reader.too_big() && !reader.line_too_long()) out.content = std::string(spool->view());
  out.consumed = start;
  out.done = reader.done();
  out.too_big = reader.too_big();
  out.line_too_long = reader.line_too_long();
  out.size = reader.size();
  return out;
}

// Reads `input` whole, split at every byte and byte by byte; all must agree.
Outcome read_every_way(std::string_view input, DataReader::Limits limits = kRoomy,
                       bool after_crlf = true) {
  test::TestDir dir;
  Outcome whole = read(dir, input, {}, limits, after_crlf);
  for (size_t cut = 1; cut < input.size(); ++cut) {
    CAPTURE(cut);
    CHECK(read(dir, input, {cut}, limits, after_crlf) == whole);
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < input.size(); ++i) every.push_back(i);
  CHECK(read(dir, input, every, limits, after_crlf) == whole);
  return whole;
}

}  // namespace

TEST_CASE("end of data is CRLF . CRLF and nothing after it is consumed") {
  Outcome o = read_every_way("Subject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n");
  CHECK(o.done);
  CHECK(o.content == "Subject: hi\r\n\r\nbody\r\n");
  CHECK(o.consumed == 24);
  CHECK(o.size == o.content.size());
}

TEST_CASE("empty data ends at once after a CRLF-terminated DATA line") {
  Outcome o = read_every_way(".\r\n");
  CHECK(o.done);
  CHECK(o.content.empty());
  Outcome bare = read_every_way(".\r\nx\r\n.\r\n", kRoomy, false);
  CHECK(bare.done);
  CHECK(bare.content == ".\r\nx\r\n");
}

TEST_CASE("dot-unstuffing removes exactly one leading dot") {
  Outcome o = read_every_way("..\r\n..x\r\n...\r\n.x.\r\nx..\r\n.\r\n");
  CHECK(o.done);
  CHECK(o.content == ".\r\n.x\r\n..\r\nx.\r\nx..\r\n");
}

TEST_CASE("SMTP smuggling: no variant of the end marker ends the data") {
  struct Case {
    const char* name;
    std::string input;
    std::string content;
  };
  const std::string smuggled = "MAIL FROM:<evil@example.net>\r\nRCPT TO:<bob@example.org>\r\n";
  std::vector<Case> cases = {
      {"LF . LF", "a\n.\n" + smuggled, "a\r\n.\r\n" + smuggled},
      {"CR . CR", "a\r.\r" + smuggled, "a\r.\r" + smuggled},
      {"LF . CRLF", "a\n.\r\n" + smuggled, "a\r\n.\r\n" + smuggled},
      {"CRLF . LF", "a\r\n.\n" + smuggled, "a\r\n.\r\n" + smuggled},
      {"CR . CRLF", "a\r.\r\n" + smuggled, "a\r.\r\n" + smuggled},
      {"CRLF . CR", "a\r\n.\r" + smuggled, "a\r\n\r" + smuggled},
      {"CRLF . CR CRLF", "a\r\n.\r\r\n" + smuggled, "a\r\n\r\r\n" + smuggled},
      {"LF . CR LF after CR", "a\r\r\n.\n" + smuggled, "a\r\r\n.\r\n" + smuggled},
      {"CRLF . NUL CRLF", std::string("a\r\n.\0\r\n", 7) + smuggled,
       std::string("a\r\n\0\r\n", 6) + smuggled},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Outcome open = read_every_way(c.input);
    CHECK_FALSE(open.done);
    CHECK(open.content == c.content);
    // The real end afterwards still ends it, with the smuggled text kept as content.
    Outcome closed = read_every_way(c.input + ".\r\n");
    CHECK(closed.done);
    CHECK(closed.content == c.content);
  }
}

TEST_CASE("bare LF becomes CRLF, bare CR stays") {
  Outcome o = read_every_way("a\nb\rc\r\n\n\r\n.\r\n");
  CHECK(o.done);
  CHECK(o.content == "a\r\nb\rc\r\n\r\n\r\n");
}

TEST_CASE("line ends of every kind mixed in one input") {
  // The reader remembers where it found the next CR and the next LF; runs of one kind
  // between two of the other must not make it skip or repeat a line end.
  Outcome o = read_every_way("l1\nl2\nl3\nx\ry\r\nz\r\r\nw\n\n..s\r\na\rb\rc\rd\nv\r\n.\r\n");
  CHECK(o.done);
  CHECK(o.content == "l1\r\nl2\r\nl3\r\nx\ry\r\nz\r\r\nw\r\n\r\n.s\r\na\rb\rc\rd\r\nv\r\n");
}

TEST_CASE("after a bare-LF line, a dot line with CRLF is content") {
  Outcome o = read_every_way("x\n.\r\ny\r\n.\r\n");
  CHECK(o.done);
  CHECK(o.content == "x\r\n.\r\ny\r\n");
}

TEST_CASE("size limit: content beyond it is counted, not stored") {
  DataReader::Limits small{10, 1000};
  Outcome fits = read_every_way("123456\r\n.\r\n", small);
  CHECK_FALSE(fits.too_big);
  Outcome over = read_every_way("1234567890\r\nmore\r\n.\r\n", small);
  CHECK(over.done);
  CHECK(over.too_big);
  CHECK(over.size == 18);
}

TEST_CASE("line length limit counts CRLF but not a stuffed dot") {
  DataReader::Limits narrow{1 << 20, 10};
  CHECK_FALSE(read_every_way("12345678\r\n.\r\n", narrow).line_too_long);
  CHECK_FALSE(read_every_way(".12345678\r\n.\r\n", narrow).line_too_long);
  CHECK_FALSE(read_every_way("12345678\n.\r\n", narrow).line_too_long);
  Outcome over = read_every_way("123456789\r\nx\r\n.\r\n", narrow);
  CHECK(over.done);
  CHECK(over.line_too_long);
  CHECK(read_every_way("123456789\n.\r\n", narrow).line_too_long);
}

TEST_CASE("large data streams through the spool") {
  std::string line(998, 'x');
  line += "\r\n";
  std::string input;
  for (int i = 0; i < 3000; ++i) input += line;
  std::string expected = input;
  input += ".\r\n";
  test::TestDir dir;
  Outcome o = read(dir, input, {1, 70000, 2000000}, {64 << 20, 1000});
  CHECK(o.done);
  CHECK(o.content.size() == expected.size());
  bool same = o.content == expected;
  CHECK(same);
}

TEST_CASE("BDAT chunks are taken exactly and stored unchanged") {
  test::TestDir dir;
  auto spool = std::make_shared<store::Spool>(dir.path());
  ChunkReader reader(spool, 100);
  reader.start_chunk(7);
  CHECK(reader.feed("a\n.\r\n") == 5);
  CHECK_FALSE(reader.chunk_done());
  CHECK(reader.feed("\r\nQUIT\r\n") == 2);
  CHECK(reader.chunk_done());
  reader.start_chunk(0);
  CHECK(reader.chunk_done());
  CHECK(reader.feed("QUIT") == 0);
  REQUIRE(spool->finish());
  CHECK(spool->view() == "a\n.\r\n\r\n");
  CHECK(reader.size() == 7);
  CHECK_FALSE(reader.too_big());
}

TEST_CASE("BDAT beyond the size limit is read and dropped") {
  test::TestDir dir;
  auto spool = std::make_shared<store::Spool>(dir.path());
  ChunkReader reader(spool, 4);
  reader.start_chunk(6);
  CHECK(reader.feed("123456") == 6);
  CHECK(reader.too_big());
  CHECK(reader.size() == 6);

  ChunkReader discard(nullptr, 100);
  discard.start_chunk(3);
  CHECK(discard.feed("abcdef") == 3);
  CHECK(discard.chunk_done());
}

}  // namespace chapar::smtp
