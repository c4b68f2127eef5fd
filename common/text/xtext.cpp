// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/text/xtext.hpp"

namespace chapar::text {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string xtext_encode(std::string_view data) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(data.size());
  for (char c : data) {
    auto u = static_cast<unsigned char>(c);
    // RFC 3461 §4: xchar = any ASCII CHAR between "!" (33) and "~" (126) except "+" and "=".
    if (u >= 33 && u <= 126 && c != '+' && c != '=') {
      out += c;
    } else {
      out += '+';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

Result<std::string> xtext_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    auto u = static_cast<unsigned char>(text[i]);
    if (text[i] == '+') {
      int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
      int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) return fail(Errc::kInvalidArgument, "bad xtext escape");
      out += static_cast<char>(hi << 4 | lo);
      i += 2;
    } else if (u < 33 || u > 126 || text[i] == '=') {
      return fail(Errc::kInvalidArgument, "invalid character in xtext");
    } else {
      out += text[i];
    }
  }
  return out;
}

}  // namespace chapar::text
