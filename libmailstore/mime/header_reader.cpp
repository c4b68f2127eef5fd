// SPDX-License-Identifier: AGPL-3.0-or-later
#include "libmailstore/mime/header_reader.hpp"

#include <algorithm>
#include <cctype>

namespace chapar::mime {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

struct Line {
  size_t content_end = 0;  // excludes the line end
  size_t next = 0;         // where the next line begins
  size_t newline_size = 0;
};

Line read_line(std::string_view data, size_t pos) {
  Line line;
  size_t lf = data.find('\n', pos);
  if (lf == std::string_view::npos) {
    line.content_end = data.size();
    line.next = data.size();
    return line;
  }
  line.next = lf + 1;
  line.content_end = lf;
  line.newline_size = 1;
  if (lf > pos && data[lf - 1] == '\r') {
    line.content_end = lf - 1;
    line.newline_size = 2;
  }
  return line;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool is_blank_line(std::string_view data, size_t pos) {
  if (pos >= data.size()) return false;
  if (data[pos] == '\n') return true;
  return data[pos] == '\r' && pos + 1 < data.size() && data[pos + 1] == '\n';
}

HeaderStep read_header_field(std::string_view data, size_t pos, HeaderField& field, size_t& next) {
  field = HeaderField{};
  field.start = pos;
  if (pos >= data.size()) {
    next = data.size();
    return HeaderStep::kEnd;
  }
  Line line = read_line(data, pos);
  if (line.content_end == pos && line.newline_size > 0) {
    next = line.next;
    field.end = next;
    return HeaderStep::kEndOfHeader;
  }
  std::string_view content = data.substr(pos, line.content_end - pos);
  size_t colon = content.find(':');
  if (colon == std::string_view::npos) {
    field.name = content;
  } else {
    field.has_colon = true;
    size_t name_end = colon;
    while (name_end > 0 && is_blank(content[name_end - 1])) --name_end;
    field.name = content.substr(0, name_end);
    std::string_view value = content.substr(colon + 1);
    // Leading blanks are not part of the value, except that a value of only blanks keeps
    // all but the first.
    size_t skip = 0;
    while (skip < value.size() && is_blank(value[skip])) ++skip;
    if (skip == value.size() && !value.empty()) skip = 1;
    field.value.assign(value.substr(skip));
  }
  field.has_nuls = content.find('\0') != std::string_view::npos;
  field.newline_size = line.newline_size;
  pos = line.next;
  // RFC 5322 §2.2.3: a line that begins with a blank continues the field.
  while (line.newline_size > 0 && pos < data.size() && is_blank(data[pos])) {
    line = read_line(data, pos);
    std::string_view more = data.substr(pos, line.content_end - pos);
    if (field.has_colon) {
      field.value.push_back('\n');
      field.value.append(more);
    }
    if (more.find('\0') != std::string_view::npos) field.has_nuls = true;
    field.newline_size = line.newline_size;
    pos = line.next;
  }
  field.end = pos;
  next = pos;
  return HeaderStep::kField;
}

}  // namespace chapar::mime
