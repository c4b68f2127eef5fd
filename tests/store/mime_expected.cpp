// SPDX-License-Identifier: AGPL-3.0-or-later
#include "tests/store/mime_expected.hpp"

#include <cctype>

#include "doctest/doctest.h"

namespace chapar::test {
namespace {

// If `line` (ending before its CRLF) ends in "{N}" or "~{N}", N.
std::optional<size_t> literal_size(std::string_view line) {
  if (line.empty() || line.back() != '}') return std::nullopt;
  size_t open = line.rfind('{');
  if (open == std::string_view::npos || open + 2 > line.size() - 1) return std::nullopt;
  size_t n = 0;
  for (size_t i = open + 1; i + 1 < line.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(line[i]))) return std::nullopt;
    n = n * 10 + static_cast<size_t>(line[i] - '0');
  }
  return n;
}

// An IMAP item: lines through CRLF, each ending in a literal marker pulls in its octets.
std::optional<std::string> read_item(std::string_view in, size_t& pos) {
  std::string item;
  for (;;) {
    size_t crlf = in.find("\r\n", pos);
    if (crlf == std::string_view::npos) return std::nullopt;
    std::string_view line = in.substr(pos, crlf - pos);
    pos = crlf + 2;
    item.append(line);
    std::optional<size_t> n = literal_size(line);
    if (!n) return item;
    item += "\r\n";
    if (pos + *n > in.size()) return std::nullopt;
    item.append(in.substr(pos, *n));
    pos += *n;
  }
}

// Where the IMAP value that begins at `pos` ends.
std::optional<size_t> value_end(std::string_view s, size_t pos) {
  if (pos >= s.size()) return std::nullopt;
  char c = s[pos];
  if (c == '"') {
    for (size_t i = pos + 1; i < s.size(); ++i) {
      if (s[i] == '\\')
        ++i;
      else if (s[i] == '"')
        return i + 1;
    }
    return std::nullopt;
  }
  if (c == '{' || (c == '~' && pos + 1 < s.size() && s[pos + 1] == '{')) {
    size_t close = s.find('}', pos);
    if (close == std::string_view::npos) return std::nullopt;
    size_t n = std::stoul(std::string(s.substr(pos + (c == '~' ? 2 : 1))));
    size_t start = close + 3;  // "}\r\n"
    if (start + n > s.size()) return std::nullopt;
    return start + n;
  }
  if (c == '(') {
    size_t i = pos + 1;
    while (i < s.size() && s[i] != ')') {
      if (s[i] == ' ') {
        ++i;
        continue;
      }
      std::optional<size_t> end = value_end(s, i);
      if (!end) return std::nullopt;
      i = *end;
    }
    if (i >= s.size()) return std::nullopt;
    return i + 1;
  }
  size_t i = pos;
  while (i < s.size() && s[i] != ' ' && s[i] != ')' && s[i] != '(') ++i;
  return i;
}

}  // namespace

std::optional<std::vector<ExpectedBlock>> parse_expected(std::string_view in) {
  std::vector<ExpectedBlock> blocks;
  size_t pos = 0;
  while (pos < in.size()) {
    if (in.compare(pos, 3, "C: ") != 0) return std::nullopt;
    pos += 3;
    ExpectedBlock block;
    std::optional<std::string> command = read_item(in, pos);
    if (!command) return std::nullopt;
    block.command = std::move(*command);
    while (in.compare(pos, 3, "S: ") == 0) {
      pos += 3;
      std::optional<std::string> response = read_item(in, pos);
      if (!response) return std::nullopt;
      block.responses.push_back(std::move(*response));
    }
    if (in.compare(pos, 3, "R: ") != 0) return std::nullopt;
    size_t crlf = in.find("\r\n", pos);
    if (crlf == std::string_view::npos) return std::nullopt;
    block.status = std::string(in.substr(pos + 3, crlf - pos - 3));
    pos = crlf + 2;
    if (in.compare(pos, 2, "\r\n") != 0) return std::nullopt;
    pos += 2;
    blocks.push_back(std::move(block));
  }
  return blocks;
}

std::optional<std::vector<FetchItem>> parse_fetch(std::string_view r) {
  if (r.substr(0, 2) != "* ") return std::nullopt;
  size_t fetch = r.find(" FETCH (");
  if (fetch == std::string_view::npos || r.empty() || r.back() != ')') return std::nullopt;
  std::string_view body = r.substr(fetch + 8, r.size() - fetch - 9);
  std::vector<FetchItem> items;
  size_t i = 0;
  while (i < body.size()) {
    if (body[i] == ' ') {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < body.size() && body[i] != ' ' && body[i] != '[') ++i;
    if (i < body.size() && body[i] == '[') {
      size_t close = body.find(']', i);
      if (close == std::string_view::npos) return std::nullopt;
      i = close + 1;
      if (i < body.size() && body[i] == '<') {
        size_t gt = body.find('>', i);
        if (gt == std::string_view::npos) return std::nullopt;
        i = gt + 1;
      }
    }
    FetchItem item;
    item.name = std::string(body.substr(start, i - start));
    if (i >= body.size() || body[i] != ' ') return std::nullopt;
    ++i;
    std::optional<size_t> end = value_end(body, i);
    if (!end) return std::nullopt;
    item.value = std::string(body.substr(i, *end - i));
    i = *end;
    items.push_back(std::move(item));
  }
  return items;
}

std::optional<std::string> imap_string_content(std::string_view v) {
  if (!v.empty() && v.front() == '"') {
    std::string out;
    for (size_t i = 1; i + 1 < v.size(); ++i) {
      if (v[i] == '\\') ++i;
      out += v[i];
    }
    return out;
  }
  size_t brace = v.find('{');
  if (brace == 0 || (brace == 1 && v.front() == '~')) {
    size_t body = v.find("}\r\n");
    if (body == std::string_view::npos) return std::nullopt;
    return std::string(v.substr(body + 3));
  }
  return std::nullopt;
}

TEST_CASE("mime: the corpus answer format is read back exactly") {
  std::string file =
      "C: UID FETCH 1 (BODY.PEEK[1])\r\n"
      "S: * 1 FETCH (UID 1 BODY[1] {7}\r\nR: x\r\n))\r\n"
      "R: OK Fetch completed.\r\n\r\n";
  auto blocks = parse_expected(file);
  REQUIRE(blocks);
  REQUIRE(blocks->size() == 1);
  REQUIRE((*blocks)[0].responses.size() == 1);
  CHECK((*blocks)[0].status == "OK Fetch completed.");
  auto items = parse_fetch((*blocks)[0].responses[0]);
  REQUIRE(items);
  REQUIRE(items->size() == 2);
  CHECK((*items)[1].name == "BODY[1]");
  CHECK(imap_string_content((*items)[1].value) == std::string("R: x\r\n)"));
  auto list = parse_fetch("* 2 FETCH (BODY[HEADER.FIELDS (A B)] \"x\\\"y\" BODY (\"a\" (\"b\")))");
  REQUIRE(list);
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].name == "BODY[HEADER.FIELDS (A B)]");
  CHECK(imap_string_content((*list)[0].value) == std::string("x\"y"));
  CHECK((*list)[1].value == "(\"a\" (\"b\"))");
}

}  // namespace chapar::test
