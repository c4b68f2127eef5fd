// SPDX-License-Identifier: AGPL-3.0-or-later
// Transfer encodings for BINARY, and sections for BODY[...].
#include <string>

#include "doctest/doctest.h"
#include "libmailstore/mime/decode.hpp"
#include "libmailstore/mime/section.hpp"

namespace chapar::mime {
namespace {

TEST_CASE("mime: base64 decodes, and tells bad characters from a cut-off end") {
  CHECK(decode_base64("aGVsbG8=").data == "hello");
  CHECK(decode_base64("aGVs\r\n bG8=\r\n").data == "hello");
  CHECK(decode_base64("aGVsbA==").data == "hell");
  CHECK(decode_base64("aGVsbA= =").data == "hell");
  CHECK(decode_base64("").ok());
  CHECK(decode_base64("aGVsbG8=x").error == DecodeError::kInvalidData);
  CHECK(decode_base64("aGV*bG8=").error == DecodeError::kInvalidData);
  CHECK(decode_base64("a===").error == DecodeError::kInvalidData);
  CHECK(decode_base64("aGVsbG8").error == DecodeError::kTruncated);
  CHECK(decode_base64("aGVsbA=").error == DecodeError::kTruncated);
  CHECK(decode_base64("yCvOy").error == DecodeError::kTruncated);
}

TEST_CASE("mime: quoted-printable: soft breaks, trailing blanks, escapes") {
  CHECK(decode_quoted_printable("a=3Db=\r\nc").data == "a=bc");
  CHECK(decode_quoted_printable("x  \r\ny\t\r\n").data == "x\r\ny\r\n");
  CHECK(decode_quoted_printable("=e9t=E9").data == "\xE9t\xE9");
  CHECK(decode_quoted_printable("soft= \r\nbreak").data == "softbreak");
  CHECK(decode_quoted_printable("end  ").data == "end");
  CHECK(decode_quoted_printable("bad=G1").error == DecodeError::kInvalidData);
  CHECK(decode_quoted_printable("cut=").error == DecodeError::kInvalidData);
  CHECK(decode_quoted_printable("cut=4").error == DecodeError::kInvalidData);
  CHECK(decode_quoted_printable("lone\rcr").error == DecodeError::kInvalidData);
}

TEST_CASE("mime: for searching, broken encodings give what can be read") {
  CHECK(decode_body_for_search("a=\"b\" c=3Dd", TransferEncoding::kQuotedPrintable) ==
        "a=\"b\" c=d");
  CHECK(decode_body_for_search("x=4", TransferEncoding::kQuotedPrintable) == "x=4");
  CHECK(decode_body_for_search("bare\rcr", TransferEncoding::kQuotedPrintable) == "bare\rcr");
  CHECK(decode_body_for_search("aGk=  trailing garbage", TransferEncoding::kBase64) == "hi");
  CHECK(decode_body_for_search("as is", TransferEncoding::kUnknown) == "as is");
  CHECK(decode_base64("aGk!").data == "hi");
}

TEST_CASE("mime: transfer encodings by name") {
  CHECK(parse_transfer_encoding(" Base64 ") == TransferEncoding::kBase64);
  CHECK(parse_transfer_encoding("QUOTED-PRINTABLE") == TransferEncoding::kQuotedPrintable);
  CHECK(parse_transfer_encoding("8bit") == TransferEncoding::k7bit8bit);
  CHECK(parse_transfer_encoding("binary") == TransferEncoding::kBinary);
  CHECK(parse_transfer_encoding("quoted printable") == TransferEncoding::kUnknown);
  CHECK(parse_transfer_encoding("x-uuencode") == TransferEncoding::kUnknown);
  CHECK(parse_transfer_encoding("") == TransferEncoding::kUnknown);
  CHECK(decode_error_code(DecodeError::kUnknownEncoding) == "UNKNOWN-CTE");
}

TEST_CASE("mime: BINARY decodes parts, and one bad part fails the whole message") {
  std::string m =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n"
      "--b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nx=3Dy\r\n"
      "--b--\r\n";
  MessageStructure s = parse_message(m);
  REQUIRE(s.root.children.size() == 2);
  Decoded first = binary_section(m, s, s.root.children[0], false);
  CHECK(first.data == "hello");
  Decoded with_header = binary_section(m, s, s.root.children[0], true);
  CHECK(with_header.data == "Content-Transfer-Encoding: binary\r\n\r\nhello");
  CHECK(binary_size(m, s, s.root.children[1], false).size == 3);

  std::string bad = m;
  bad.replace(bad.find("quoted-printable"), 16, "x-gzip64");
  MessageStructure t = parse_message(bad);
  CHECK(binary_size(bad, t, t.root.children[0], false).error == DecodeError::kUnknownEncoding);

  std::string broken = m;
  broken.replace(broken.find("aGVsbG8="), 8, "aGV!bG8=");
  MessageStructure u = parse_message(broken);
  CHECK(binary_size(broken, u, u.root.children[1], false).error == DecodeError::kInvalidData);
}

TEST_CASE("mime: section names parse and print back") {
  auto spec = parse_section("1.2.HEADER.FIELDS (From \"Message-ID\")");
  REQUIRE(spec);
  CHECK(spec->path == std::vector<uint32_t>{1, 2});
  CHECK(spec->kind == SectionSpec::Kind::kHeaderFields);
  CHECK(spec->fields == std::vector<std::string>{"FROM", "MESSAGE-ID"});
  CHECK(section_name(*spec) == "1.2.HEADER.FIELDS (FROM MESSAGE-ID)");
  CHECK(section_name(*parse_section("3.mime")) == "3.MIME");
  CHECK(section_name(*parse_section("")) == "");
  CHECK(section_name(*parse_section("TEXT")) == "TEXT");
  CHECK_FALSE(parse_section("MIME"));
  CHECK_FALSE(parse_section("0"));
  CHECK_FALSE(parse_section("1."));
  CHECK_FALSE(parse_section("1..2"));
  CHECK_FALSE(parse_section("HEADER.FIELDS ()"));
  CHECK_FALSE(parse_section("BOGUS"));
  CHECK_FALSE(parse_section("99999999999"));
}

TEST_CASE("mime: header fields are filtered line by line") {
  std::string header = "From: a\r\nReceived: x\r\n y\r\nTo: b\r\n\r\n";
  CHECK(filter_header_fields(header, {"TO", "FROM"}, false) == "From: a\r\nTo: b\r\n\r\n");
  CHECK(filter_header_fields(header, {"RECEIVED"}, true) == "From: a\r\nTo: b\r\n\r\n");
  CHECK(filter_header_fields(header, {"RECEIVED"}, false) == "Received: x\r\n y\r\n\r\n");
  CHECK(filter_header_fields("A: 1", {"A"}, false) == "A: 1\r\n");
  CHECK(filter_header_fields("A: 1", {"B"}, true) == "A: 1");
  CHECK(partial("0123456789", 2, 3) == "234");
  CHECK(partial("0123", 9, 3) == "");
}

TEST_CASE("mime: part numbers find parts, and nothing for parts that are not there") {
  std::string m =
      "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
      "--b\r\n\r\none\r\n"
      "--b\r\nContent-Type: message/rfc822\r\n\r\n"
      "Content-Type: multipart/alternative; boundary=c\r\n\r\n"
      "--c\r\n\r\ninner\r\n--c--\r\n"
      "--b--\r\n";
  MessageStructure s = parse_message(m);
  CHECK(find_part(s, {1}) == &s.root.children[0]);
  CHECK(find_part(s, {2}) == &s.root.children[1]);
  CHECK(find_part(s, {2, 1}) == &s.root.children[1].children[0].children[0]);
  CHECK(find_part(s, {3}) == nullptr);
  // A part that is not multipart is its own part 1 (RFC 9051 §6.4.5).
  CHECK(find_part(s, {1, 1}) == &s.root.children[0]);
  CHECK(find_part(s, {1, 2}) == nullptr);
  auto missing = parse_section("7.MIME");
  REQUIRE(missing);
  CHECK_FALSE(find_section(s, *missing).found);
  auto not_message = parse_section("1.HEADER");
  REQUIRE(not_message);
  CHECK_FALSE(find_section(s, *not_message).found);
  auto inner = parse_section("2.1");
  REQUIRE(inner);
  CHECK(section_content(m, *inner, find_section(s, *inner)) == "inner");
}

}  // namespace
}  // namespace chapar::mime
