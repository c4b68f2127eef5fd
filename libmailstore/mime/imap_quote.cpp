// SPDX-License-Identifier: AGPL-3.0-or-later
#include "libmailstore/mime/imap_quote.hpp"

#include "libmailstore/mime/header_reader.hpp"

namespace chapar::mime {
namespace {

// With this many quoted-specials a literal is about as short as the escaped quoted string.
constexpr int kQuotedMaxEscapes = 4;

void append_literal(std::string& out, std::string_view s) {
  out += '{';
  out += std::to_string(s.size());
  out += "}\r\n";
  out.append(s);
}

bool is_astring_char(unsigned char c) {
  // ATOM-CHAR plus "]" (RFC 9051 §9 ASTRING-CHAR)
  if (c <= 0x1f || c >= 0x7f) return false;
  switch (c) {
    case '(':
    case ')':
    case '{':
    case ' ':
    case '%':
    case '*':
    case '"':
    case '\\':
      return false;
    default:
      return true;
  }
}

}  // namespace

void append_imap_quoted(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '\r' || c == '\n' || u >= 0x80 || c == '\0') continue;
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

void append_imap_string(std::string& out, std::string_view s) {
  // Strings from headers never hold NUL (they become U+FFFD); should one get here, the
  // string ends at it, as it would for a C string.
  s = s.substr(0, s.find('\0'));
  int escapes = 0;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      if (escapes++ >= kQuotedMaxEscapes) return append_literal(out, s);
    } else if (c == '\r' || c == '\n' || static_cast<unsigned char>(c) >= 0x80) {
      return append_literal(out, s);
    }
  }
  append_imap_quoted(out, s);
}

void append_imap_nstring(std::string& out, const std::optional<std::string>& s) {
  if (!s) {
    out += "NIL";
    return;
  }
  append_imap_string(out, *s);
}

void append_imap_nstring_nolf(std::string& out, const std::optional<std::string>& s) {
  if (!s || s->find_first_of("\r\n") == std::string::npos) return append_imap_nstring(out, s);
  std::string clean;
  clean.reserve(s->size());
  for (size_t i = 0; i < s->size(); ++i) {
    char c = (*s)[i];
    if (c != '\r' && c != '\n') {
      clean += c;
      continue;
    }
    char next = i + 1 < s->size() ? (*s)[i + 1] : '\0';
    if (next != ' ' && next != '\t' && next != '\r' && next != '\n' && next != '\0') clean += ' ';
  }
  append_imap_string(out, clean);
}

void append_imap_astring(std::string& out, std::string_view s) {
  bool atom = !s.empty() && !iequals(s, "NIL");
  for (char c : s) {
    if (!is_astring_char(static_cast<unsigned char>(c))) {
      atom = false;
      break;
    }
  }
  if (atom)
    out.append(s);
  else
    append_imap_string(out, s);
}

void append_imap_string_for_humans(std::string& out, std::string_view s) {
  size_t remove = 0;
  bool blank_prefix = true;
  bool last_blank = true;
  bool modify = false;
  for (char c : s) {
    switch (c) {
      case '\0':
        last_blank = false;
        modify = true;
        break;
      case '\r':
      case '\n':
      case '\t':
        modify = true;
        [[fallthrough]];
      case ' ':
        if (last_blank) {
          modify = true;
          ++remove;
        }
        last_blank = true;
        break;
      case '"':
      case '\\':
        modify = true;
        last_blank = false;
        break;
      default:
        if (static_cast<unsigned char>(c) >= 0x80) modify = true;
        last_blank = false;
        break;
    }
    if (!last_blank) blank_prefix = false;
  }
  if (last_blank && !s.empty() && !blank_prefix) {
    modify = true;
    ++remove;
  }
  if (!modify) {
    out += '"';
    out.append(s);
    out += '"';
    return;
  }
  if (remove == s.size()) {
    out += "\"\"";
    return;
  }
  std::string text;
  text.reserve(s.size() - remove);
  last_blank = true;
  blank_prefix = true;
  for (char c : s) {
    switch (c) {
      case '\0':
        text += '\x80';
        last_blank = false;
        break;
      case '\r':
      case '\n':
      case '\t':
      case ' ':
        if (!last_blank) text += ' ';
        last_blank = true;
        break;
      default:
        last_blank = false;
        text += c;
        break;
    }
    if (!last_blank) blank_prefix = false;
  }
  if (last_blank && !s.empty() && !blank_prefix) text.pop_back();
  append_literal(out, text);
}

std::string replace_nuls(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\0') c = '\x80';
  }
  return out;
}

}  // namespace chapar::mime
