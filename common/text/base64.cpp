// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/text/base64.hpp"

#include <array>
#include <cstdint>

namespace chapar::text {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr int8_t kInvalid = -1;

constexpr std::array<int8_t, 256> make_table() {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = kInvalid;
  for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(kAlphabet[i])] = int8_t(i);
  return table;
}
constexpr std::array<int8_t, 256> kTable = make_table();

int8_t value_of(char c) {
  return kTable[static_cast<unsigned char>(c)];
}

// Appends the bytes of up to four sextets held in `bits` (`count` of them, 2..4).
void flush(std::string& out, uint32_t bits, int count) {
  bits <<= 6 * (4 - count);
  out += static_cast<char>((bits >> 16) & 0xff);
  if (count > 2) out += static_cast<char>((bits >> 8) & 0xff);
  if (count > 3) out += static_cast<char>(bits & 0xff);
}

}  // namespace

std::string base64_encode(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(data[i])) << 16 | uint32_t(uint8_t(data[i + 1])) << 8 |
                 uint32_t(uint8_t(data[i + 2]));
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  size_t rest = data.size() - i;
  if (rest > 0) {
    uint32_t v = uint32_t(uint8_t(data[i])) << 16;
    if (rest == 2) v |= uint32_t(uint8_t(data[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string base64_encode_lines(std::string_view data, size_t line_length) {
  if (line_length < 4) line_length = 4;
  line_length -= line_length % 4;
  std::string encoded = base64_encode(data);
  std::string out;
  out.reserve(encoded.size() + encoded.size() / line_length * 2 + 2);
  for (size_t i = 0; i < encoded.size(); i += line_length) {
    out.append(encoded, i, line_length);
    out += "\r\n";
  }
  return out;
}

Result<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return fail(Errc::kInvalidArgument, "base64 length is not a multiple of 4");
  }
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t bits = 0;
  int count = 0;
  for (size_t i = 0; i < text.size() - padding; ++i) {
    int8_t v = value_of(text[i]);
    if (v == kInvalid) return fail(Errc::kInvalidArgument, "invalid base64 character");
    bits = bits << 6 | uint32_t(v);
    if (++count == 4) {
      flush(out, bits, 4);
      bits = 0;
      count = 0;
    }
  }
  if (count > 0) {
    // RFC 4648 §3.5: the unused low bits of the last sextet must be zero.
    uint32_t unused = count == 2 ? 0xf : 0x3;
    if (bits & unused) return fail(Errc::kInvalidArgument, "non-canonical base64 padding");
    flush(out, bits, count);
  }
  return out;
}

std::string base64_decode_lenient(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '=') break;
    int8_t v = value_of(c);
    if (v == kInvalid) continue;
    bits = bits << 6 | uint32_t(v);
    if (++count == 4) {
      flush(out, bits, 4);
      bits = 0;
      count = 0;
    }
  }
  if (count >= 2) flush(out, bits, count);
  return out;
}

}  // namespace chapar::text
