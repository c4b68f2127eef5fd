// SPDX-License-Identifier: AGPL-3.0-or-later
#include <doctest/doctest.h>

#include <string>

#include "imapd/arguments.hpp"
#include "imapd/parser.hpp"
#include "libmailstore/types.hpp"

namespace chapar::imap {
namespace {

// Frames `wire` (one command with its CRLF) and parses it.
ParseResult parse_wire(std::string_view wire) {
  CommandReader reader({});
  size_t pos = 0;
  for (;;) {
    CommandReader::Step step = reader.next(wire.substr(pos));
    pos += step.consumed;
    if (step.event == CommandReader::Event::kCommand) return parse_command(reader.take());
    REQUIRE(step.event != CommandReader::Event::kNeedMore);
  }
}

Command parse_ok(std::string_view wire) {
  ParseResult r = parse_wire(wire);
  INFO(r.error.message);
  REQUIRE(r.command);
  return std::move(*r.command);
}

template <typename T, typename V>
T ok(V v) {
  if (const auto* bad = std::get_if<Invalid>(&v)) FAIL_CHECK(bad->message);
  REQUIRE(std::holds_alternative<T>(v));
  return std::move(std::get<T>(v));
}

template <typename V>
bool invalid(const V& v) {
  return std::holds_alternative<Invalid>(v);
}

TEST_CASE("parser: tag, name and arguments") {
  Command c = parse_ok("a1 login bob \"se\\\"cret\\\\\"\r\n");
  CHECK(c.tag == "a1");
  CHECK(c.name == "LOGIN");
  REQUIRE(c.args.size() == 2);
  CHECK(c.args[0].is_atom());
  CHECK(c.args[0].value == "bob");
  CHECK(c.args[1].kind == Arg::Kind::kQuoted);
  CHECK(c.args[1].value == "se\"cret\\");

  c = parse_ok("x uid fetch 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100>)\r\n");
  CHECK(c.name == "UID FETCH");
  REQUIRE(c.args.size() == 2);
  CHECK(c.args[0].value == "1:*");
  REQUIRE(c.args[1].is_list());
  REQUIRE(c.args[1].children.size() == 2);
  CHECK(c.args[1].children[1].value == "BODY.PEEK[HEADER.FIELDS (From To)]<0.100>");

  c = parse_ok("t LOGIN {3}\r\nbob {4+}\r\npass\r\n");
  REQUIRE(c.args.size() == 2);
  CHECK(c.args[0].kind == Arg::Kind::kLiteral);
  CHECK(c.args[0].value == "bob");
  CHECK(c.args[1].value == "pass");

  c = parse_ok("t STORE 1 +FLAGS (\\Seen $Junk)\r\n");
  CHECK(c.args[2].children[0].value == "\\Seen");

  c = parse_ok("t NOOP\r\n");
  CHECK(c.args.empty());
  c = parse_ok("t LIST \"\" ()\r\n");
  CHECK(c.args[1].is_list());
  CHECK(c.args[1].children.empty());
}

TEST_CASE("parser: syntax errors keep the tag when it is readable") {
  ParseResult r = parse_wire("a1 LOGIN \"unterminated\r\n");
  CHECK_FALSE(r.command);
  CHECK(r.error.tag == "a1");
  r = parse_wire("a1 FETCH 1 (FLAGS\r\n");
  CHECK_FALSE(r.command);
  CHECK(r.error.tag == "a1");
  r = parse_wire("a1 FETCH 1 FLAGS)\r\n");
  CHECK_FALSE(r.command);
  r = parse_wire("a1 LOGIN \"a\\b\" x\r\n");
  CHECK_FALSE(r.command);
  r = parse_wire("a1 LOGIN (a)b\r\n");
  CHECK_FALSE(r.command);
  r = parse_wire("a+b NOOP\r\n");
  CHECK_FALSE(r.command);
  CHECK(r.error.tag.empty());
  r = parse_wire("\r\n");
  CHECK_FALSE(r.command);
  r = parse_wire("a1\r\n");
  CHECK_FALSE(r.command);
  CHECK(r.error.tag == "a1");
  r = parse_wire("a1 FETCH 1 BODY[HEADER\r\n");
  CHECK_FALSE(r.command);
  std::string deep = "a1 X " + std::string(100, '(') + std::string(100, ')') + "\r\n";
  CHECK_FALSE(parse_wire(deep).command);
}

TEST_CASE("sequence sets") {
  auto set = parse_sequence_set("1,3:5,*,7:*");
  REQUIRE(set);
  CHECK(resolve(*set, 10) == Intervals{{1, 1}, {3, 5}, {7, 10}});
  CHECK(resolve(*parse_sequence_set("5:2"), 10) == Intervals{{2, 5}});
  // "*" beyond the largest UID still names it (RFC 9051 §6.4.8).
  CHECK(resolve(*parse_sequence_set("20:*"), 10) == Intervals{{10, 20}});
  CHECK(resolve(*parse_sequence_set("*"), 0).empty());
  CHECK(resolve(*parse_sequence_set("1:2,2:4,6"), 10) == Intervals{{1, 4}, {6, 6}});
  CHECK(parse_sequence_set("$")->saved_result);
  CHECK_FALSE(parse_sequence_set("0"));
  CHECK_FALSE(parse_sequence_set("1:"));
  CHECK_FALSE(parse_sequence_set("1,,2"));
  CHECK_FALSE(parse_sequence_set("a"));
  CHECK_FALSE(parse_sequence_set("4294967296"));
  CHECK(parse_sequence_set("4294967295"));
  Intervals i = resolve(*parse_sequence_set("2:4,9"), 10);
  CHECK(contains(i, 3));
  CHECK_FALSE(contains(i, 5));
  CHECK(contains(i, 9));
  std::vector<uint32_t> values{1, 2, 3, 7, 9, 10};
  CHECK(format_sequence_set(values) == "1:3,7,9:10");
}

TEST_CASE("dates") {
  CHECK(parse_search_date("1-Jan-1970") == 0);
  CHECK(parse_search_date("01-feb-2024") == 19754);
  CHECK_FALSE(parse_search_date("30-Feb-2024"));
  CHECK_FALSE(parse_search_date("1-Foo-2024"));
  CHECK(parse_date_time("01-Jan-2020 00:00:00 +0000") == 1577836800);
  CHECK(parse_date_time(" 1-Jan-2020 01:00:00 +0100") == 1577836800);
  CHECK(parse_date_time("31-Dec-2019 19:00:00 -0500") == 1577836800);
  CHECK_FALSE(parse_date_time("01-Jan-2020 24:00:00 +0000"));
  CHECK_FALSE(parse_date_time("01-Jan-2020 00:00:00"));
  CHECK(format_date_time(1577836800) == "01-Jan-2020 00:00:00 +0000");
  CHECK(format_date_time(1709294400) == "01-Mar-2024 12:00:00 +0000");
}

TEST_CASE("search programs") {
  Command c = parse_ok(
      "a SEARCH RETURN (MIN COUNT) CHARSET UTF-8 OR (FROM bob) SEEN NOT UID 1:5 "
      "HEADER X-Spam \"\" SINCE 1-Feb-2024 2,4:* LARGER 100 KEYWORD $Junk UNKEYWORD \\Seen "
      "MODSEQ \"/flags/\\\\draft\" all 7\r\n");
  auto req = ok<SearchRequest>(parse_search(c.args));
  CHECK(req.extended);
  CHECK(req.returns == (kReturnMin | kReturnCount));
  CHECK(req.charset == "UTF-8");
  CHECK(req.uses_modseq);
  const auto& keys = req.key.children;
  REQUIRE(keys.size() == 9);
  CHECK(keys[0].type == SearchKey::Type::kOr);
  CHECK(keys[0].children[0].type == SearchKey::Type::kAnd);
  CHECK(keys[0].children[0].children[0].field == "FROM");
  CHECK(keys[0].children[0].children[0].text == "bob");
  CHECK(keys[0].children[1].type == SearchKey::Type::kFlags);
  CHECK(keys[1].type == SearchKey::Type::kNot);
  CHECK(keys[1].children[0].type == SearchKey::Type::kUid);
  CHECK(keys[2].type == SearchKey::Type::kHeader);
  CHECK(keys[2].field == "X-Spam");
  CHECK(keys[3].type == SearchKey::Type::kSince);
  CHECK(keys[4].type == SearchKey::Type::kSequence);
  CHECK(keys[5].number == 100);
  CHECK(keys[6].type == SearchKey::Type::kKeyword);
  CHECK(keys[7].type == SearchKey::Type::kNotFlags);
  CHECK(keys[7].flags == store::kSeen);
  CHECK(keys[8].type == SearchKey::Type::kModSeq);
  CHECK(keys[8].number == 7);

  c = parse_ok("a SEARCH RETURN (SAVE) $\r\n");
  req = ok<SearchRequest>(parse_search(c.args));
  CHECK(req.returns == kReturnSave);
  CHECK(req.key.children[0].set.saved_result);
  c = parse_ok("a SEARCH RETURN () ALL\r\n");
  CHECK(ok<SearchRequest>(parse_search(c.args)).returns == kReturnAll);

  c = parse_ok("a SEARCH CHARSET ISO-8859-1 SUBJECT {5}\r\nFr\xf6sc\r\n");
  CHECK(ok<SearchRequest>(parse_search(c.args)).key.children[0].text == "Fr\xc3\xb6sc");

  c = parse_ok("a SEARCH CHARSET X-NO-SUCH-CHARSET ALL\r\n");
  CHECK(std::holds_alternative<BadCharset>(parse_search(c.args)));
  for (const char* bad :
       {"a SEARCH\r\n", "a SEARCH FOO\r\n", "a SEARCH OR SEEN\r\n", "a SEARCH SINCE yesterday\r\n",
        "a SEARCH ()\r\n", "a SEARCH LARGER x\r\n", "a SEARCH RETURN (FOO) ALL\r\n"}) {
    INFO(bad);
    c = parse_ok(bad);
    CHECK(std::holds_alternative<Invalid>(parse_search(c.args)));
  }
}

TEST_CASE("fetch attributes") {
  Command c = parse_ok("a FETCH 1 ALL\r\n");
  CHECK(ok<FetchRequest>(parse_fetch(std::span(c.args).subspan(1))).items.size() == 4);
  c = parse_ok("a FETCH 1 FULL\r\n");
  CHECK(ok<FetchRequest>(parse_fetch(std::span(c.args).subspan(1))).items.size() == 5);

  c = parse_ok(
      "a FETCH 1 (UID body.peek[1.2.HEADER.FIELDS.NOT (Received \"X-A\")]<5.10> BINARY[2] "
      "BINARY.SIZE[1] RFC822 RFC822.HEADER BODY[] BODY[3.MIME] MODSEQ) (CHANGEDSINCE 12 "
      "VANISHED)\r\n");
  auto req = ok<FetchRequest>(parse_fetch(std::span(c.args).subspan(1)));
  REQUIRE(req.items.size() == 9);
  CHECK(req.changed_since == 12u);
  CHECK(req.vanished);
  const FetchItem& h = req.items[1];
  CHECK(h.type == FetchItem::Type::kSection);
  CHECK(h.peek);
  CHECK(h.section.part == std::vector<uint32_t>{1, 2});
  CHECK(h.section.text == Section::Text::kHeaderFieldsNot);
  CHECK(h.partial == std::make_pair<uint64_t, uint64_t>(5, 10));
  CHECK(fetch_item_name(h) == "BODY[1.2.HEADER.FIELDS.NOT (RECEIVED X-A)]<5>");
  CHECK(fetch_item_name(req.items[2]) == "BINARY[2]");
  CHECK(fetch_item_name(req.items[3]) == "BINARY.SIZE[1]");
  CHECK(fetch_item_name(req.items[4]) == "RFC822");
  CHECK_FALSE(req.items[4].peek);
  CHECK(req.items[5].peek);
  CHECK(fetch_item_name(req.items[6]) == "BODY[]");
  CHECK(fetch_item_name(req.items[7]) == "BODY[3.MIME]");
  CHECK(fetch_item_name(req.items[8]) == "MODSEQ");

  for (const char* bad :
       {"a FETCH 1 (ALL)\r\n", "a FETCH 1 FOO\r\n", "a FETCH 1 BODY[MIME]\r\n",
        "a FETCH 1 BINARY[1.TEXT]\r\n", "a FETCH 1 BODY[1]<5>\r\n", "a FETCH 1 BODY[0]\r\n",
        "a FETCH 1 BODY[HEADER.FIELDS ()]\r\n", "a FETCH 1 (FLAGS) (VANISHED)\r\n",
        "a FETCH 1 ()\r\n", "a FETCH 1 BINARY.SIZE[1]<0.1>\r\n"}) {
    INFO(bad);
    c = parse_ok(bad);
    CHECK(invalid(parse_fetch(std::span(c.args).subspan(1))));
  }
}

TEST_CASE("store, flags and select parameters") {
  Command c = parse_ok("a STORE 1 (UNCHANGEDSINCE 5) +FLAGS.SILENT (\\Seen \\Deleted foo)\r\n");
  auto req = ok<StoreRequest>(parse_store(std::span(c.args).subspan(1)));
  CHECK(req.op == StoreRequest::Op::kAdd);
  CHECK(req.silent);
  CHECK(req.unchanged_since == 5u);
  CHECK(req.flags.flags == (store::kSeen | store::kDeleted));
  CHECK(req.flags.keywords == std::vector<std::string>{"foo"});
  c = parse_ok("a STORE 1 FLAGS \\Flagged \\Recent\r\n");
  CHECK(ok<StoreRequest>(parse_store(std::span(c.args).subspan(1))).flags.flags == store::kFlagged);
  for (const char* bad : {"a STORE 1 +FLAGS (\\Bogus)\r\n", "a STORE 1 LABELS (x)\r\n",
                          "a STORE 1 +FLAGS\r\n", "a STORE 1 (UNCHANGEDSINCE x) FLAGS ()\r\n"}) {
    INFO(bad);
    c = parse_ok(bad);
    CHECK(invalid(parse_store(std::span(c.args).subspan(1))));
  }

  c = parse_ok(
      "a SELECT INBOX (QRESYNC (67890007 20050715194045000 41:211,214:541 (1:3 4:6)))\r\n");
  auto sel = ok<SelectParams>(parse_select_params(std::span(c.args).subspan(1)));
  REQUIRE(sel.qresync);
  CHECK(sel.qresync->uidvalidity == 67890007u);
  CHECK(sel.qresync->modseq == 20050715194045000u);
  CHECK(sel.qresync->known_uids);
  CHECK(sel.qresync->seq_match);
  c = parse_ok("a SELECT INBOX (CONDSTORE)\r\n");
  CHECK(ok<SelectParams>(parse_select_params(std::span(c.args).subspan(1))).condstore);
  c = parse_ok("a SELECT INBOX (QRESYNC (0 1))\r\n");
  CHECK(invalid(parse_select_params(std::span(c.args).subspan(1))));
}

TEST_CASE("list, status and append") {
  Command c = parse_ok(
      "a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (INBOX \"Sent*\") RETURN (CHILDREN STATUS "
      "(MESSAGES UNSEEN))\r\n");
  auto list = ok<ListRequest>(parse_list(c.args));
  CHECK(list.extended);
  CHECK(list.select_subscribed);
  CHECK(list.recursive_match);
  CHECK(list.return_children);
  CHECK(list.return_status == (kStatusMessages | kStatusUnseen));
  CHECK(list.patterns == std::vector<std::string>{"INBOX", "Sent*"});
  c = parse_ok("a LIST \"\" %\r\n");
  CHECK_FALSE(ok<ListRequest>(parse_list(c.args)).extended);
  c = parse_ok("a LIST (RECURSIVEMATCH) \"\" %\r\n");
  CHECK(invalid(parse_list(c.args)));

  c = parse_ok("a STATUS INBOX (MESSAGES HIGHESTMODSEQ SIZE)\r\n");
  CHECK(ok<uint32_t>(parse_status_items(c.args[1])) ==
        (kStatusMessages | kStatusHighestModSeq | kStatusSize));
  c = parse_ok("a STATUS INBOX (FOO)\r\n");
  CHECK(invalid(parse_status_items(c.args[1])));

  c = parse_ok("a APPEND INBOX (\\Seen) \"01-Jan-2020 00:00:00 +0000\" {3+}\r\nabc {2+}\r\nde\r\n");
  auto msgs = ok<std::vector<AppendMessage>>(parse_append(std::span(c.args).subspan(1)));
  REQUIRE(msgs.size() == 2);
  CHECK(msgs[0].flags.flags == store::kSeen);
  CHECK(msgs[0].internal_date == 1577836800);
  CHECK(msgs[0].literal == 0);
  CHECK(msgs[1].literal == 1);
  CHECK_FALSE(msgs[1].internal_date);
  c = parse_ok("a APPEND INBOX \"yesterday\" {1+}\r\nx\r\n");
  CHECK(invalid(parse_append(std::span(c.args).subspan(1))));
  c = parse_ok("a APPEND INBOX (\\Seen)\r\n");
  CHECK(invalid(parse_append(std::span(c.args).subspan(1))));
}

}  // namespace
}  // namespace chapar::imap

namespace chapar::imap {
namespace {

// The same command framed from every split of its bytes parses to the same arguments.
std::string describe(const std::vector<Arg>& args) {
  std::string out;
  for (const Arg& a : args) {
    out += "[" + std::to_string(static_cast<int>(a.kind)) + ":" + a.value;
    if (a.is_list()) out += "(" + describe(a.children) + ")";
    out += "]";
  }
  return out;
}

std::string parse_in_pieces(std::string_view wire, size_t split) {
  CommandReader reader({});
  std::string buffer;
  std::string out;
  for (std::string_view piece : {wire.substr(0, split), wire.substr(split)}) {
    buffer.append(piece);
    for (;;) {
      CommandReader::Step step = reader.next(buffer);
      buffer.erase(0, step.consumed);
      if (step.event == CommandReader::Event::kNeedMore) break;
      if (step.event != CommandReader::Event::kCommand) continue;
      ParseResult r = parse_command(reader.take());
      out += r.command ? r.command->tag + " " + r.command->name + " " + describe(r.command->args)
                       : "error " + r.error.message;
      out += "\n";
    }
  }
  return out;
}

TEST_CASE("parser: every split of the input parses the same") {
  using namespace std::string_literals;
  const std::string wire =
      "a1 APPEND \"Sent Items\" (\\Seen $x) \"01-Jan-2020 00:00:00 +0000\" {5}\r\nhello"
      " ~{3+}\r\nab\0 {0}\r\n\r\n"
      "a2 UID FETCH 1:*,7 (FLAGS BODY.PEEK[HEADER.FIELDS (\"From\" To)]<0.64>)\r\n"
      "a3 SEARCH CHARSET UTF-8 OR (SUBJECT {4+}\r\nr\xc3\xa9s) NOT \"x\\\"y\" 2:4\r\n"
      "a4 LOGIN \"unterminated\r\n"s;
  const std::string whole = parse_in_pieces(wire, wire.size());
  CHECK(whole.find("error") != std::string::npos);  // a4
  CHECK(std::count(whole.begin(), whole.end(), '\n') == 4);
  for (size_t split = 0; split <= wire.size(); ++split) {
    INFO("split at " << split);
    CHECK(parse_in_pieces(wire, split) == whole);
  }
}

}  // namespace
}  // namespace chapar::imap
