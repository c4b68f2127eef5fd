// SPDX-License-Identifier: AGPL-3.0-or-later
#include "libmailstore/mime/charset.hpp"

#include <errno.h>
#include <iconv.h>

#include <array>
#include <memory>

#include "libmailstore/mime/decode.hpp"
#include "libmailstore/mime/header_reader.hpp"

namespace chapar::mime {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

struct IconvCloser {
  void operator()(void* cd) const { iconv_close(static_cast<iconv_t>(cd)); }
};
using IconvHandle = std::unique_ptr<void, IconvCloser>;

// Names seen in real mail that iconv does not know by that name.
std::string iconv_name(std::string_view charset) {
  struct Alias {
    std::string_view name;
    std::string_view iconv;
  };
  static constexpr std::array<Alias, 5> kAliases = {{
      {"ks_c_5601-1987", "CP949"},
      {"ks_c_5601", "CP949"},
      {"x-sjis", "SHIFT_JIS"},
      {"unicode-1-1-utf-7", "UTF-7"},
      {"utf8", "UTF-8"},
  }};
  for (const Alias& a : kAliases) {
    if (iequals(charset, a.name)) return std::string(a.iconv);
  }
  return std::string(charset);
}

// Length of the valid UTF-8 sequence at s[i], or 0 (RFC 3629 §4).
size_t utf8_sequence(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t len = 0;
  unsigned char lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xbf) return 0;
  }
  return len;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string convert_or_sanitize(std::string_view bytes, std::string_view charset) {
  auto converted = to_utf8(bytes, charset);
  return converted ? std::move(*converted) : sanitize_utf8(bytes);
}

// RFC 2047 §4.2 "Q": "_" is a space, "=XX" an octet.
std::string decode_q(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '_') {
      out += ' ';
    } else if (c == '=' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
               hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// RFC 2047 §4.1 "B", forgiving: characters outside the alphabet and missing padding are
// ignored, a last incomplete octet is dropped.
std::string decode_b(std::string_view text) {
  std::string out;
  unsigned buf = 0;
  int bits = 0;
  for (char c : text) {
    int v = base64_value(c);
    if (v < 0) continue;
    buf = (buf << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xff);
    }
  }
  return out;
}

struct EncodedWord {
  size_t end = 0;  // after "?="
  std::string decoded;
};

// "=?charset[*language]?B|Q?text?=" at `pos`, or nothing.
std::optional<EncodedWord> encoded_word_at(std::string_view s, size_t pos) {
  if (s.compare(pos, 2, "=?") != 0) return std::nullopt;
  size_t q1 = s.find('?', pos + 2);
  if (q1 == std::string_view::npos || q1 + 2 >= s.size() || s[q1 + 2] != '?') return std::nullopt;
  char enc = s[q1 + 1];
  if (enc != 'B' && enc != 'b' && enc != 'Q' && enc != 'q') return std::nullopt;
  size_t text_start = q1 + 3;
  size_t close = s.find("?=", text_start);
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view charset = s.substr(pos + 2, q1 - pos - 2);
  std::string_view text = s.substr(text_start, close - text_start);
  if (charset.empty() || charset.find_first_of(" \t") != std::string_view::npos ||
      text.find_first_of(" \t") != std::string_view::npos)
    return std::nullopt;
  charset = charset.substr(0, charset.find('*'));  // RFC 2231 §5 language suffix
  std::string raw = (enc == 'B' || enc == 'b') ? decode_b(text) : decode_q(text);
  return EncodedWord{close + 2, convert_or_sanitize(raw, charset)};
}

}  // namespace

Result<std::string> to_utf8(std::string_view bytes, std::string_view charset) {
  if (charset.empty() || iequals(charset, "us-ascii") || iequals(charset, "utf-8") ||
      iequals(charset, "utf8"))
    return sanitize_utf8(bytes);
  iconv_t raw = iconv_open("UTF-8", iconv_name(charset).c_str());
  if (raw == reinterpret_cast<iconv_t>(-1))
    return fail(Errc::kNotFound, "unknown charset " + std::string(charset));
  IconvHandle cd(raw);
  std::string out;
  std::string buffer(4096, '\0');
  char* in = const_cast<char*>(bytes.data());
  size_t in_left = bytes.size();
  while (in_left > 0) {
    char* dst = buffer.data();
    size_t dst_left = buffer.size();
    size_t r = iconv(static_cast<iconv_t>(cd.get()), &in, &in_left, &dst, &dst_left);
    out.append(buffer.data(), buffer.size() - dst_left);
    if (r != static_cast<size_t>(-1)) continue;
    if (errno == E2BIG) continue;
    out += kReplacement;
    if (errno == EINVAL) break;  // incomplete sequence at the end
    ++in;                        // EILSEQ: skip the octet
    --in_left;
  }
  char* dst = buffer.data();
  size_t dst_left = buffer.size();
  iconv(static_cast<iconv_t>(cd.get()), nullptr, nullptr, &dst, &dst_left);
  out.append(buffer.data(), buffer.size() - dst_left);
  return out;
}

std::string sanitize_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    size_t len = utf8_sequence(bytes, i);
    if (len == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(bytes.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string decode_header_value(std::string_view raw) {
  // Unfold (RFC 5322 §2.2.3): line ends go, the blanks after them stay.
  std::string unfolded;
  unfolded.reserve(raw.size());
  for (char c : raw) {
    if (c != '\r' && c != '\n') unfolded += c;
  }
  std::string_view s = unfolded;
  std::string out;
  std::string pending;  // plain text since the last encoded word
  bool after_word = false;
  size_t i = 0;
  while (i < s.size()) {
    if (auto word = encoded_word_at(s, i)) {
      // RFC 2047 §6.2: blanks between two encoded words are not displayed.
      bool only_blanks = pending.find_first_not_of(" \t") == std::string::npos;
      if (!(after_word && only_blanks)) out += sanitize_utf8(pending);
      pending.clear();
      out += word->decoded;
      after_word = true;
      i = word->end;
      continue;
    }
    pending += s[i++];
  }
  out += sanitize_utf8(pending);
  return out;
}

std::string decode_rfc2231_value(std::string_view value) {
  size_t q1 = value.find('\'');
  size_t q2 = q1 == std::string_view::npos ? q1 : value.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return sanitize_utf8(value);
  std::string_view charset = value.substr(0, q1);
  std::string bytes;
  for (size_t i = q2 + 1; i < value.size(); ++i) {
    if (value[i] == '%' && i + 2 < value.size() && hex_value(value[i + 1]) >= 0 &&
        hex_value(value[i + 2]) >= 0) {
      bytes += static_cast<char>(hex_value(value[i + 1]) * 16 + hex_value(value[i + 2]));
      i += 2;
    } else {
      bytes += value[i];
    }
  }
  return convert_or_sanitize(bytes, charset);
}

std::string part_text_utf8(std::string_view message, const Part& part) {
  if (part.body_offset() >= message.size()) return {};
  std::string_view body = message.substr(part.body_offset(), part.body_size);
  TransferEncoding encoding =
      part.encoding ? parse_transfer_encoding(*part.encoding) : TransferEncoding::k7bit8bit;
  std::string bytes = decode_body_for_search(body, encoding);
  std::string charset;
  for (const Param& p : part.type_params) {
    if (iequals(p.name, "charset")) charset = p.value;
  }
  return convert_or_sanitize(bytes, charset);
}

}  // namespace chapar::mime
