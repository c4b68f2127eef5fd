// SPDX-License-Identifier: AGPL-3.0-or-later
#include <doctest/doctest.h>

#include <string>

#include "imapd/response.hpp"

namespace chapar::imap {
namespace {

std::string string_of(std::string_view value, bool utf8) {
  std::string out;
  append_string(out, value, utf8);
  return out;
}

std::string astring_of(std::string_view value) {
  std::string out;
  append_astring(out, value, false);
  return out;
}

TEST_CASE("strings are quoted or sent as literals") {
  CHECK(string_of("hello world", false) == "\"hello world\"");
  CHECK(string_of("say \"hi\" \\o/", false) == "\"say \\\"hi\\\" \\\\o/\"");
  CHECK(string_of("", false) == "\"\"");
  CHECK(string_of("two\r\nlines", false) == "{10}\r\ntwo\r\nlines");
  CHECK(string_of("caf\xc3\xa9", false) == "{5}\r\ncaf\xc3\xa9");
  CHECK(string_of("caf\xc3\xa9", true) == "\"caf\xc3\xa9\"");
  CHECK(string_of("bad \xff", true) == "{5}\r\nbad \xff");
  CHECK(string_of(std::string_view("a\0b", 3), false) ==
        "{3}\r\na\x80"
        "b");
  std::string out;
  append_nstring(out, std::nullopt, false);
  CHECK(out == "NIL");
}

TEST_CASE("astrings") {
  CHECK(astring_of("INBOX") == "INBOX");
  CHECK(astring_of("Sent Items") == "\"Sent Items\"");
  CHECK(astring_of("") == "\"\"");
  CHECK(astring_of("nil") == "\"nil\"");
  CHECK(astring_of("a*b") == "\"a*b\"");
  CHECK(astring_of("x]") == "\"x]\"");
}

TEST_CASE("status lines") {
  CHECK(status_line("a1", kOk, "", "Done.") == "a1 OK Done.\r\n");
  CHECK(status_line("*", kNo, code::kNonExistent, "No such mailbox.") ==
        "* NO [NONEXISTENT] No such mailbox.\r\n");
}

TEST_CASE("modified UTF-7 (RFC 3501 §5.1.3)") {
  CHECK(mutf7_encode("INBOX") == "INBOX");
  CHECK(mutf7_encode("Tom & Jerry") == "Tom &- Jerry");
  // The example of RFC 3501 §5.1.3.
  CHECK(mutf7_encode("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e") ==
        "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
  CHECK(mutf7_encode("Entw\xc3\xbc"
                     "rfe") == "Entw&APw-rfe");
  CHECK(mutf7_encode("\xf0\x9f\x93\xa7") == "&2D3c5w-");
  CHECK(mutf7_decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-") ==
        "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
  CHECK(mutf7_decode("Tom &- Jerry") == "Tom & Jerry");
  CHECK(mutf7_decode("&2D3c5w-") == "\xf0\x9f\x93\xa7");
  CHECK_FALSE(mutf7_decode("&U,BTFw"));       // unterminated
  CHECK_FALSE(mutf7_decode("&AGE-"));         // "a" encoded: must represent itself
  CHECK_FALSE(mutf7_decode("&2D0-"));         // lone high surrogate
  CHECK_FALSE(mutf7_decode("Entw\xc3\xbc"));  // raw 8-bit
  CHECK_FALSE(mutf7_decode("&APx-"));         // non-zero padding bits
  CHECK(decode_mailbox_name("Entw\xc3\xbc"
                            "rfe",
                            true) ==
        "Entw\xc3\xbc"
        "rfe");
  CHECK(decode_mailbox_name("Tom &- Jerry", true) == "Tom &- Jerry");
  CHECK_FALSE(decode_mailbox_name("\xff", true));
  CHECK(encode_mailbox_name("Entw\xc3\xbc"
                            "rfe",
                            true) ==
        "Entw\xc3\xbc"
        "rfe");
  std::string out;
  append_mailbox(out,
                 "Entw\xc3\xbc"
                 "rfe",
                 false);
  CHECK(out == "Entw&APw-rfe");
}

}  // namespace
}  // namespace chapar::imap
