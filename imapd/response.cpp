// SPDX-License-Identifier: AGPL-3.0-or-later
#include "imapd/response.hpp"

#include <charconv>

#include <fmt/format.h>

#include "common/text/utf8.hpp"
#include "imapd/parser.hpp"

namespace chapar::imap {
namespace {

constexpr std::string_view kMutf7Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

int mutf7_value(char c) {
  size_t pos = kMutf7Alphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

// Decodes one UTF-8 sequence at `pos`; false on an invalid or overlong sequence.
bool next_code_point(std::string_view text, size_t& pos, uint32_t& cp) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char c = byte(pos);
  size_t len = 0;
  if (c < 0x80) {
    cp = c;
    len = 1;
  } else if ((c & 0xe0) == 0xc0) {
    cp = c & 0x1f;
    len = 2;
  } else if ((c & 0xf0) == 0xe0) {
    cp = c & 0x0f;
    len = 3;
  } else if ((c & 0xf8) == 0xf0) {
    cp = c & 0x07;
    len = 4;
  } else {
    return false;
  }
  if (pos + len > text.size()) return false;
  for (size_t i = 1; i < len; ++i) {
    if ((byte(pos + i) & 0xc0) != 0x80) return false;
    cp = (cp << 6) | (byte(pos + i) & 0x3f);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
  pos += len;
  return true;
}

bool is_atom_char(unsigned char c) {
  return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '{' && c != '%' && c != '*' &&
         c != '"' && c != '\\' && c != ']';
}

}  // namespace

std::string status_line(std::string_view tag, std::string_view status, std::string_view code,
                        std::string_view text) {
  if (code.empty()) return fmt::format("{} {} {}\r\n", tag, status, text);
  return fmt::format("{} {} [{}] {}\r\n", tag, status, code, text);
}

bool is_valid_utf8(std::string_view text) {
  size_t pos = 0;
  uint32_t cp = 0;
  while (pos < text.size()) {
    if (!next_code_point(text, pos, cp)) return false;
  }
  return true;
}

void append_number(std::string& out, uint64_t n) {
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof(digits), n).ptr;
  out.append(digits, end);
}

void append_quoted(std::string& out, std::string_view value) {
  out.push_back('"');
  for (char c : value) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
}

void append_literal(std::string& out, std::string_view bytes) {
  fmt::format_to(std::back_inserter(out), "{{{}}}\r\n", bytes.size());
  size_t start = out.size();
  out.append(bytes);
  for (size_t i = start; i < out.size(); ++i) {
    if (out[i] == '\0') out[i] = '\x80';
  }
}

void append_string(std::string& out, std::string_view value, bool utf8) {
  bool eight_bit = false;
  for (unsigned char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return append_literal(out, value);
    if (c >= 0x80) eight_bit = true;
  }
  // RFC 9051 §4.3: 8-bit text goes into a quoted string only as UTF-8, and only to a client
  // that accepts it; Dovecot sends a literal then, which every client reads.
  if (eight_bit && (!utf8 || !is_valid_utf8(value))) return append_literal(out, value);
  append_quoted(out, value);
}

void append_nstring(std::string& out, std::optional<std::string_view> value, bool utf8) {
  if (!value) {
    out.append("NIL");
  } else {
    append_string(out, *value, utf8);
  }
}

void append_astring(std::string& out, std::string_view value, bool utf8) {
  bool atom = !value.empty() && !iequals(value, "NIL");
  for (unsigned char c : value) {
    if (!is_atom_char(c)) {
      atom = false;
      break;
    }
  }
  if (atom) {
    out.append(value);
  } else {
    append_string(out, value, utf8);
  }
}

std::string mutf7_encode(std::string_view utf8) {
  std::string out;
  std::u16string pending;
  auto flush = [&] {
    if (pending.empty()) return;
    out.push_back('&');
    uint32_t bits = 0;
    int nbits = 0;
    for (char16_t unit : pending) {
      bits = (bits << 16) | unit;
      nbits += 16;
      while (nbits >= 6) {
        nbits -= 6;
        out.push_back(kMutf7Alphabet[(bits >> nbits) & 0x3f]);
      }
    }
    if (nbits > 0) out.push_back(kMutf7Alphabet[(bits << (6 - nbits)) & 0x3f]);
    out.push_back('-');
    pending.clear();
  };
  size_t pos = 0;
  while (pos < utf8.size()) {
    uint32_t cp = 0;
    if (!next_code_point(utf8, pos, cp)) {
      cp = 0xfffd;  // names are valid UTF-8 in the store; never emit broken UTF-16
      ++pos;
    }
    if (cp >= 0x20 && cp <= 0x7e) {
      flush();
      if (cp == '&') {
        out.append("&-");
      } else {
        out.push_back(static_cast<char>(cp));
      }
    } else if (cp >= 0x10000) {
      cp -= 0x10000;
      pending.push_back(static_cast<char16_t>(0xd800 + (cp >> 10)));
      pending.push_back(static_cast<char16_t>(0xdc00 + (cp & 0x3ff)));
    } else {
      pending.push_back(static_cast<char16_t>(cp));
    }
  }
  flush();
  return out;
}

std::optional<std::string> mutf7_decode(std::string_view text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c > 0x7e) return std::nullopt;
    if (c != '&') {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    size_t end = text.find('-', i + 1);
    if (end == std::string_view::npos) return std::nullopt;
    if (end == i + 1) {
      out.push_back('&');
      i = end + 1;
      continue;
    }
    uint32_t bits = 0;
    int nbits = 0;
    char16_t high = 0;
    for (size_t j = i + 1; j < end; ++j) {
      int v = mutf7_value(text[j]);
      if (v < 0) return std::nullopt;
      bits = (bits << 6) | static_cast<uint32_t>(v);
      nbits += 6;
      if (nbits >= 16) {
        nbits -= 16;
        auto unit = static_cast<char16_t>((bits >> nbits) & 0xffff);
        if (unit >= 0xd800 && unit <= 0xdbff) {
          if (high != 0) return std::nullopt;
          high = unit;
        } else if (unit >= 0xdc00 && unit <= 0xdfff) {
          if (high == 0) return std::nullopt;
          text::append_utf8(
              out, 0x10000 + ((static_cast<uint32_t>(high) - 0xd800) << 10) + (unit - 0xdc00));
          high = 0;
        } else {
          if (high != 0) return std::nullopt;
          // RFC 3501 §5.1.3: printable US-ASCII must represent itself.
          if (unit >= 0x20 && unit <= 0x7e) return std::nullopt;
          text::append_utf8(out, unit);
        }
      }
    }
    // Leftover bits must be padding: fewer than 6 and all zero.
    if (high != 0 || nbits >= 6 || (bits & ((1u << nbits) - 1)) != 0) return std::nullopt;
    i = end + 1;
  }
  return out;
}

std::string encode_mailbox_name(std::string_view name, bool utf8) {
  return utf8 ? std::string(name) : mutf7_encode(name);
}

std::optional<std::string> decode_mailbox_name(std::string_view wire, bool utf8) {
  if (utf8) {
    if (!is_valid_utf8(wire)) return std::nullopt;
    return std::string(wire);
  }
  return mutf7_decode(wire);
}

void append_mailbox(std::string& out, std::string_view name, bool utf8) {
  append_astring(out, encode_mailbox_name(name, utf8), utf8);
}

}  // namespace chapar::imap
