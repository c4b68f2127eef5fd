// SPDX-License-Identifier: AGPL-3.0-or-later
// The MIME parser on small hand-written messages: offsets, sizes, line counts, defaults,
// broken boundaries, and the stored form.
#include <string>

#include "doctest/doctest.h"
#include "libmailstore/mime/render.hpp"
#include "libmailstore/mime/section.hpp"
#include "libmailstore/mime/structure.hpp"

namespace chapar::mime {
namespace {

std::string_view text_of(std::string_view message, uint64_t offset, uint64_t size) {
  return message.substr(offset, size);
}

TEST_CASE("mime: line ends are normalised the way the store keeps messages") {
  CHECK(normalize_line_endings("a\nb\n") == "a\r\nb\r\n");
  CHECK(normalize_line_endings("a\r\nb") == "a\r\nb");
  CHECK(normalize_line_endings("a\rb\r") == "a\rb");
  CHECK(normalize_line_endings("\n\n") == "\r\n\r\n");
  CHECK(normalize_line_endings("a\r\r\n") == "a\r\r\n");
  CHECK(normalize_line_endings("") == "");
  CHECK(normalize_line_endings("\r") == "");
}

TEST_CASE("mime: a plain message has one text part after its header") {
  std::string m = "Subject: hi\r\nFrom: a@b.c\r\n\r\nline one\r\nline two\r\n";
  MessageStructure s = parse_message(m);
  CHECK(s.size == m.size());
  CHECK(s.root.header_size == 28);
  CHECK(s.root.header_lines == 3);
  CHECK(s.root.body_size == 20);
  CHECK(s.root.body_lines == 2);
  CHECK((s.root.flags & kPartText) != 0);
  CHECK_FALSE(s.root.type.has_value());
  CHECK(s.envelope().subject == std::string("hi"));
  CHECK(render_bodystructure(s, false) ==
        "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 20 2)");
}

TEST_CASE("mime: multipart parts have exact offsets; line ends before boundaries are not theirs") {
  std::string m =
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"xy\"\r\n"
      "\r\n"
      "preamble\r\n"
      "--xy\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "\r\n"
      "first\r\n"
      "--xy\r\n"
      "\r\n"
      "second\r\n"
      "--xy--\r\n"
      "epilogue\r\n";
  MessageStructure s = parse_message(m);
  REQUIRE(s.root.is_multipart());
  REQUIRE(s.root.children.size() == 2);
  const Part& a = s.root.children[0];
  const Part& b = s.root.children[1];
  CHECK(text_of(m, a.offset, a.header_size) == "Content-Type: text/plain; charset=utf-8\r\n\r\n");
  CHECK(text_of(m, a.body_offset(), a.body_size) == "first");
  CHECK(a.body_lines == 0);
  CHECK(text_of(m, b.offset, b.header_size) == "\r\n");
  CHECK(text_of(m, b.body_offset(), b.body_size) == "second");
  CHECK(s.root.end() == m.size());
  CHECK(render_bodystructure(s, true) ==
        "((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" 5 0 NIL NIL NIL NIL)"
        "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 0 NIL NIL NIL NIL)"
        " \"mixed\" (\"boundary\" \"xy\") NIL NIL NIL)");
}

TEST_CASE("mime: message/rfc822 encapsulates a message with its own envelope") {
  std::string m =
      "Content-Type: message/rfc822\r\n"
      "\r\n"
      "Subject: inner\r\n"
      "From: \"Inner Person\" <in@example.org>\r\n"
      "\r\n"
      "body\r\n";
  MessageStructure s = parse_message(m);
  REQUIRE(s.root.is_message());
  REQUIRE(s.root.children.size() == 1);
  const Part& inner = s.root.children[0];
  REQUIRE(inner.envelope.has_value());
  CHECK(inner.envelope->subject == std::string("inner"));
  REQUIRE(inner.envelope->from.size() == 1);
  CHECK(inner.envelope->from[0].name == std::string("Inner Person"));
  CHECK(render_bodystructure(s, false) ==
        "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 63 (NIL \"inner\" ((\"Inner Person\" NIL "
        "\"in\" \"example.org\")) ((\"Inner Person\" NIL \"in\" \"example.org\")) ((\"Inner "
        "Person\" NIL \"in\" \"example.org\")) NIL NIL NIL NIL NIL) (\"text\" \"plain\" "
        "(\"charset\" \"us-ascii\") NIL NIL \"7bit\" 6 1) 4)");
  auto header = parse_section("1.HEADER");
  REQUIRE(header);
  SectionRange r = find_section(s, *header);
  CHECK(section_content(m, *header, r) ==
        "Subject: inner\r\nFrom: \"Inner Person\" <in@example.org>\r\n\r\n");
  auto text = parse_section("1.1");
  REQUIRE(text);
  CHECK(section_content(m, *text, find_section(s, *text)) == "body\r\n");
}

TEST_CASE("mime: in a digest, parts without Content-Type are messages") {
  std::string m =
      "Content-Type: multipart/digest; boundary=d\r\n\r\n"
      "--d\r\n\r\nSubject: one\r\n\r\nx\r\n"
      "--d--\r\n";
  MessageStructure s = parse_message(m);
  REQUIRE(s.root.children.size() == 1);
  CHECK(s.root.children[0].is_message());
}

TEST_CASE("mime: Content-* fields count only for MIME messages") {
  std::string m = "Content-Transfer-Encoding: base64\r\nContent-ID: <x>\r\n\r\nAAAA\r\n";
  MessageStructure s = parse_message(m);
  CHECK_FALSE(s.root.encoding.has_value());
  CHECK_FALSE(s.root.id.has_value());
  std::string mime = "MIME-Version: 1.0\r\n" + m;
  MessageStructure t = parse_message(mime);
  CHECK(t.root.encoding == std::string("base64"));
  CHECK(t.root.id == std::string("<x>"));
}

TEST_CASE("mime: parameters with RFC 2231 continuations are joined, not decoded") {
  std::string m =
      "Content-Type: application/octet-stream;\r\n"
      " name*0*=utf-8''%E2%82;\r\n"
      " name*1*=%AC.txt; x=\"q\\\"uoted\"\r\n"
      "\r\n";
  MessageStructure s = parse_message(m);
  REQUIRE(s.root.type_params.size() == 2);
  CHECK(s.root.type_params[0].name == "x");
  CHECK(s.root.type_params[0].value == "q\"uoted");
  CHECK(s.root.type_params[1].name == "name*");
  CHECK(s.root.type_params[1].value == "utf-8''%E2%82%AC.txt");
}

TEST_CASE("mime: a missing close delimiter and an unused boundary lose nothing") {
  std::string m =
      "Content-Type: multipart/mixed; boundary=a\r\n\r\n"
      "--a\r\n"
      "Content-Type: multipart/alternative; boundary=never\r\n\r\n"
      "text that never sees its boundary\r\n"
      "--a\r\n\r\n"
      "last part, no close delimiter";
  MessageStructure s = parse_message(m);
  REQUIRE(s.root.children.size() == 2);
  const Part& alt = s.root.children[0];
  CHECK(alt.is_multipart());
  CHECK(alt.children.empty());
  CHECK(text_of(m, alt.body_offset(), alt.body_size) == "text that never sees its boundary");
  CHECK(render_bodystructure(alt, false) ==
        "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0) \"alternative\")");
  const Part& last = s.root.children[1];
  CHECK(last.end() == m.size());
}

TEST_CASE("mime: a header without an empty line, and a message without a header") {
  MessageStructure a = parse_message("Subject: x\r\nFrom: y");
  CHECK(a.root.header_size == 19);
  CHECK(a.root.body_size == 0);
  MessageStructure b = parse_message("no colon here\r\nnor here\r\n");
  CHECK(b.root.header_size == 25);
  CHECK(b.root.body_size == 0);
  MessageStructure c = parse_message("");
  CHECK(c.root.header_size == 0);
  CHECK(c.root.body_size == 0);
}

TEST_CASE("mime: the stored form round-trips and rejects corruption") {
  std::string m =
      "From: A <a@b.c>, group: x@y.z;\r\nSubject: s\r\nContent-Type: multipart/mixed; "
      "boundary=b\r\nContent-Language: en, de\r\n\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n"
      "To: t@u.v\r\n\r\nhi\r\n--b--\r\n";
  MessageStructure s = parse_message(m);
  std::string stored = serialize(s);
  auto back = deserialize(stored);
  REQUIRE(back);
  CHECK(*back == s);
  CHECK_FALSE(deserialize(""));
  CHECK_FALSE(deserialize("XX\x01"));
  for (size_t cut = 0; cut < stored.size(); ++cut) CHECK_FALSE(deserialize(stored.substr(0, cut)));
  std::string grown = stored + "x";
  CHECK_FALSE(deserialize(grown));
}

}  // namespace
}  // namespace chapar::mime
