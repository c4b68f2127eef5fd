// SPDX-License-Identifier: AGPL-3.0-or-later
// Hostile input: deep nesting, missing and reused boundaries, huge headers, many parts,
// random bytes. The parser must finish, stay within its limits, and account for every octet.
#include <functional>
#include <random>
#include <string>

#include "doctest/doctest.h"
#include "libmailstore/mime/address.hpp"
#include "libmailstore/mime/charset.hpp"
#include "libmailstore/mime/decode.hpp"
#include "libmailstore/mime/render.hpp"
#include "libmailstore/mime/section.hpp"
#include "libmailstore/mime/structure.hpp"

namespace chapar::mime {
namespace {

// Parts lie inside their parents, in order, and the root is the whole message.
void check_part(const Part& part, uint64_t begin, uint64_t end, uint32_t depth, uint32_t& max_depth,
                size_t& parts) {
  ++parts;
  max_depth = std::max(max_depth, depth);
  REQUIRE(part.offset >= begin);
  REQUIRE(part.end() <= end);
  CHECK(part.header_lines <= part.header_size);
  CHECK(part.body_lines <= part.body_size);
  uint64_t pos = part.body_offset();
  for (const Part& child : part.children) {
    REQUIRE(child.offset >= pos);
    check_part(child, pos, part.end(), depth + 1, max_depth, parts);
    pos = child.end();
  }
}

struct Shape {
  uint32_t depth = 0;
  size_t parts = 0;
};

// Parses, checks the invariants, renders, stores and reads back; optionally fetches every
// section of every part (not for the huge messages, where that would be quadratic).
Shape exercise(const std::string& message, bool every_section) {
  MessageStructure s = parse_message(message);
  CHECK(s.size == message.size());
  CHECK(s.root.offset == 0);
  CHECK(s.root.end() == message.size());
  Shape shape;
  check_part(s.root, 0, message.size(), 0, shape.depth, shape.parts);
  CHECK(!render_bodystructure(s, true).empty());
  CHECK(!render_bodystructure(s, false).empty());
  CHECK(!render_envelope(s.envelope()).empty());
  auto back = deserialize(serialize(s));
  REQUIRE(back);
  CHECK(*back == s);
  if (!every_section) return shape;
  std::function<void(const Part&, std::vector<uint32_t>)> visit = [&](const Part& part,
                                                                      std::vector<uint32_t> path) {
    for (auto kind :
         {SectionSpec::Kind::kFull, SectionSpec::Kind::kMime, SectionSpec::Kind::kHeader,
          SectionSpec::Kind::kText, SectionSpec::Kind::kHeaderFields}) {
      SectionSpec spec;
      spec.path = path;
      spec.kind = kind;
      spec.fields = {"SUBJECT"};
      SectionRange range = find_section(s, spec);
      CHECK(section_content(message, spec, range).size() <= message.size() + 2);
    }
    if (part.children.empty()) {
      BinarySize size = binary_size(message, s, part, false);
      if (!size.error) CHECK(size.size <= part.body_size + part.body_lines + 2);
    }
    for (size_t i = 0; i < part.children.size() && path.size() < 8; ++i) {
      std::vector<uint32_t> child = path;
      child.push_back(static_cast<uint32_t>(i + 1));
      visit(part.children[i], child);
    }
  };
  visit(s.root, {});
  return shape;
}

TEST_CASE("mime hostile: deeply nested multiparts stop at the nesting limit") {
  std::string m;
  for (int i = 0; i < 5000; ++i)
    m += "Content-Type: multipart/mixed; boundary=b" + std::to_string(i) + "\r\n\r\n--b" +
         std::to_string(i) + "\r\n";
  m += "\r\ninnermost\r\n";
  Shape shape = exercise(m, false);
  CHECK(shape.depth < ParseLimits{}.max_nesting);
}

TEST_CASE("mime hostile: deeply nested messages stop at the nesting limit") {
  std::string m;
  for (int i = 0; i < 5000; ++i) m += "Subject: level\r\nContent-Type: message/rfc822\r\n\r\n";
  m += "body\r\n";
  Shape shape = exercise(m, false);
  CHECK(shape.depth < ParseLimits{}.max_nesting);
  ParseLimits tight;
  tight.max_nesting = 3;
  MessageStructure s = parse_message(m, tight);
  uint32_t depth = 0;
  size_t parts = 0;
  check_part(s.root, 0, m.size(), 0, depth, parts);
  CHECK(depth < 3);
}

TEST_CASE("mime hostile: the same boundary at every level") {
  std::string m;
  for (int i = 0; i < 300; ++i)
    m += "Content-Type: multipart/mixed; boundary=same\r\n\r\n--same\r\n";
  for (int i = 0; i < 300; ++i) m += "\r\n--same--\r\n";
  exercise(m, true);
}

TEST_CASE("mime hostile: many parts stop at the part limit") {
  std::string m = "Content-Type: multipart/mixed; boundary=p\r\n\r\n";
  for (int i = 0; i < 20000; ++i) m += "--p\r\n\r\nx\r\n";
  m += "--p--\r\n";
  Shape shape = exercise(m, false);
  CHECK(shape.parts <= ParseLimits{}.max_parts);
}

TEST_CASE("mime hostile: huge headers") {
  std::string long_line = "Subject: " + std::string(2 * 1024 * 1024, 'a') + "\r\n\r\nbody\r\n";
  exercise(long_line, false);
  std::string many;
  for (int i = 0; i < 100000; ++i) many += "X-Header: value\r\n";
  many += "From: " + std::string(100000, ',') + "\r\n";
  many += "To: " + std::string(50000, '(') + "\r\n\r\n";
  exercise(many, false);
  std::string parameters = "Content-Type: multipart/mixed";
  for (int i = 0; i < 200000; ++i) parameters += "; (";
  parameters += "\r\nContent-Disposition: attachment";
  for (int i = 0; i < 200000; ++i) parameters += ";a=\"";
  exercise(parameters + "\r\n\r\nbody\r\n", false);
  std::string folded = "Subject: start";
  for (int i = 0; i < 100000; ++i) folded += "\r\n continued";
  folded += "\r\n\r\n";
  MessageStructure s = parse_message(folded);
  CHECK(s.envelope().subject->size() == 5 + 100000 * 11);
}

// Bytes that mean something to a MIME parser, so that random input reaches deep paths.
std::string random_message(std::mt19937& rng) {
  static const std::vector<std::string> kPieces = {
      "\r\n",
      "\r\n",
      "\n",
      "\r",
      "--b",
      "--b--",
      "--c",
      " ",
      "\t",
      ":",
      ";",
      "\"",
      "(",
      ")",
      "<",
      ">",
      "@",
      ",",
      "=?",
      "?=",
      "?B?",
      "?Q?",
      "=",
      "%",
      "'",
      std::string(1, '\0'),
      "\xFF",
      "Content-Type: multipart/mixed; boundary=b\r\n",
      "Content-Type: multipart/digest; boundary=c\r\n",
      "Content-Type: message/rfc822\r\n",
      "Content-Transfer-Encoding: base64\r\n",
      "Content-Transfer-Encoding: quoted-printable\r\n",
      "MIME-Version: 1.0\r\n",
      "From: a@b\r\n",
      "To: g: x@y;\r\n",
      "Content-Disposition: a;",
      " filename*0*=utf-8''x",
      "aGVsbG8=",
      "=3D",
      "Subject: =?utf-8?q?x?=\r\n"};
  std::uniform_int_distribution<size_t> count(0, 120);
  std::uniform_int_distribution<size_t> pick(0, kPieces.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string m;
  for (size_t n = count(rng); n > 0; --n) {
    if (byte(rng) < 20)
      m += static_cast<char>(byte(rng));
    else
      m += kPieces[pick(rng)];
  }
  return m;
}

TEST_CASE("mime hostile: random bytes never break the parser or the renderers") {
  std::mt19937 rng(20240917);
  for (int i = 0; i < 1500; ++i) {
    std::string m = random_message(rng);
    exercise(m, true);
    exercise(normalize_line_endings(m), true);
    parse_address_list(m);
    decode_header_value(m);
    decode_base64(m);
    decode_quoted_printable(m);
    decode_rfc2231_value(m);
  }
}

TEST_CASE("mime hostile: corrupt stored structures are refused, not trusted") {
  std::mt19937 rng(7);
  std::string m =
      "From: a@b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
      "Content-Type: message/rfc822\r\n\r\nSubject: x\r\n\r\ny\r\n--b--\r\n";
  std::string stored = serialize(parse_message(m));
  std::uniform_int_distribution<size_t> where(0, stored.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 3000; ++i) {
    std::string bad = stored;
    for (int k = 0; k < 3; ++k) bad[where(rng)] = static_cast<char>(byte(rng));
    auto result = deserialize(bad);
    if (result) {
      uint32_t depth = 0;
      size_t parts = 0;
      check_part(result->root, 0, result->size, 0, depth, parts);
      render_bodystructure(*result, true);
    }
  }
}

}  // namespace
}  // namespace chapar::mime
