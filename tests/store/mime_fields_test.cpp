// SPDX-License-Identifier: AGPL-3.0-or-later
// Address lists, IMAP string quoting, and header decoding for SEARCH.
#include <string>

#include "doctest/doctest.h"
#include "libmailstore/mime/address.hpp"
#include "libmailstore/mime/charset.hpp"
#include "libmailstore/mime/imap_quote.hpp"
#include "libmailstore/mime/render.hpp"

namespace chapar::mime {
namespace {

std::string render_list(std::string_view value) {
  Envelope e;
  e.to = parse_address_list(value);
  std::string all = render_envelope(e);
  // "(NIL NIL NIL NIL NIL <to> NIL NIL NIL NIL)"
  return all.substr(21, all.size() - 21 - 17);
}

TEST_CASE("mime: address lists as ENVELOPE shows them") {
  CHECK(render_list("a@b.c") == "((NIL NIL \"a\" \"b.c\"))");
  CHECK(render_list("\"Doe, John\" <john@x.org>") == "((\"Doe, John\" NIL \"john\" \"x.org\"))");
  CHECK(render_list("john@x.org (John Doe)") == "((\"John Doe\" NIL \"john\" \"x.org\"))");
  CHECK(render_list("<@r1,@r2:u@d>") == "((NIL \"@r1,@r2\" \"u\" \"d\"))");
  CHECK(render_list("g: a@b, c@d;, e@f") ==
        "((NIL NIL \"g\" NIL)(NIL NIL \"a\" \"b\")(NIL NIL \"c\" \"d\")(NIL NIL NIL NIL)"
        "(NIL NIL \"e\" \"f\"))");
  CHECK(render_list("undisclosed-recipients:;") ==
        "((NIL NIL \"undisclosed-recipients\" NIL)(NIL NIL NIL NIL))");
  CHECK(render_list("Mary Smith") ==
        "((\"Mary Smith\" NIL \"MISSING_MAILBOX\" \"MISSING_DOMAIN\"))");
  CHECK(render_list("user") == "((NIL NIL \"user\" \"MISSING_DOMAIN\"))");
  CHECK(render_list("Name <broken") == "((\"Name\" NIL \"broken\" \"SYNTAX_ERROR\"))");
  CHECK(render_list("") == "NIL");
  CHECK(render_list("   ") == "NIL");
}

TEST_CASE("mime: strings are quoted, escaped or sent as literals like a mature server") {
  auto str = [](std::string_view s) {
    std::string out;
    append_imap_string(out, s);
    return out;
  };
  CHECK(str("plain") == "\"plain\"");
  CHECK(str("") == "\"\"");
  CHECK(str("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(str("\"\"\"\"\"") == "{5}\r\n\"\"\"\"\"");
  CHECK(str("caf\xC3\xA9") == "{5}\r\ncaf\xC3\xA9");
  CHECK(str("two\r\nlines") == "{10}\r\ntwo\r\nlines");

  auto nolf = [](std::string s) {
    std::string out;
    append_imap_nstring_nolf(out, s);
    return out;
  };
  CHECK(nolf("a\n b") == "\"a b\"");
  CHECK(nolf("a\nb") == "\"a b\"");
  std::string nil;
  append_imap_nstring(nil, std::nullopt);
  CHECK(nil == "NIL");

  auto human = [](std::string_view s) {
    std::string out;
    append_imap_string_for_humans(out, s);
    return out;
  };
  CHECK(human("Hello world") == "\"Hello world\"");
  CHECK(human("Hello  world") == "{11}\r\nHello world");
  CHECK(human("tab\there ") == "{8}\r\ntab here");
  CHECK(human("  ") == "\"\"");
  CHECK(human("say \"x\"") == "{7}\r\nsay \"x\"");
  CHECK(human(std::string_view("a\0b", 3)) ==
        "{3}\r\na\x80"
        "b");

  std::string atom;
  append_imap_astring(atom, "FROM");
  append_imap_astring(atom, " NIL");
  append_imap_astring(atom, "nil");
  CHECK(atom == "FROM\" NIL\"\"nil\"");
  CHECK(replace_nuls(std::string_view("a\0", 2)) == "a\x80");
}

TEST_CASE("mime: encoded words and charsets decode to UTF-8 for searching") {
  CHECK(decode_header_value("=?ISO-8859-1?Q?Caf=E9_au_lait?=") == "Caf\xC3\xA9 au lait");
  CHECK(decode_header_value("=?utf-8?B?w6k=?= =?utf-8?B?w6k=?=") == "\xC3\xA9\xC3\xA9");
  CHECK(decode_header_value("a =?utf-8?q?b?= c") == "a b c");
  CHECK(decode_header_value("folded\r\n line") == "folded line");
  CHECK(decode_header_value("=?x-unknown?Q?ab?=") == "ab");
  CHECK(decode_header_value("=?utf-8?Q?unterminated") == "=?utf-8?Q?unterminated");
  CHECK(decode_header_value("=?utf-8*en?Q?lang?=") == "lang");
  CHECK(decode_header_value("raw \xFF byte") == "raw \xEF\xBF\xBD byte");
  CHECK(decode_rfc2231_value("iso-8859-1'en'%A3 rate") == "\xC2\xA3 rate");
  CHECK(decode_rfc2231_value("no quotes") == "no quotes");
  auto latin = to_utf8("\xE9t\xE9", "ISO-8859-1");
  REQUIRE(latin);
  CHECK(*latin == "\xC3\xA9t\xC3\xA9");
  CHECK_FALSE(to_utf8("x", "no-such-charset-anywhere"));
  CHECK(sanitize_utf8("ok \xE2\x82\xAC \xE2\x82") == "ok \xE2\x82\xAC \xEF\xBF\xBD\xEF\xBF\xBD");
}

}  // namespace
}  // namespace chapar::mime
