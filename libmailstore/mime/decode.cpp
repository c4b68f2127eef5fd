// SPDX-License-Identifier: AGPL-3.0-or-later
#include "libmailstore/mime/decode.hpp"

#include <array>

#include "libmailstore/mime/header_reader.hpp"
#include "libmailstore/mime/rfc822_reader.hpp"

namespace chapar::mime {
namespace {

// RFC 2045 §6.7 (5): lines are at most 76 characters, so longer trailing blanks are broken.
constexpr size_t kQpMaxBlanks = 76;

constexpr std::array<unsigned char, 256> make_base64_table() {
  std::array<unsigned char, 256> t{};
  for (auto& v : t) v = 0xff;
  constexpr std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < alphabet.size(); ++i)
    t[static_cast<unsigned char>(alphabet[i])] = static_cast<unsigned char>(i);
  return t;
}

constexpr std::array<unsigned char, 256> kBase64 = make_base64_table();

bool is_space(char c) {
  return c == '\n' || c == '\r' || c == ' ' || c == '\t';
}
bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;  // not strictly valid, but seen in the wild
  return -1;
}

Decoded failed(DecodeError error) {
  Decoded d;
  d.error = error;
  return d;
}

// The header of a part whose body BINARY decodes: its Content-Transfer-Encoding becomes
// "binary" (RFC 3516 §4.2).
std::string converted_header(std::string_view header) {
  std::string out;
  size_t pos = 0;
  HeaderField field;
  for (;;) {
    size_t next = 0;
    HeaderStep step = read_header_field(header, pos, field, next);
    if (step == HeaderStep::kEnd) break;
    if (step == HeaderStep::kEndOfHeader) {
      out += "Content-Transfer-Encoding: binary\r\n\r\n";
      break;
    }
    if (!iequals(field.name, "Content-Transfer-Encoding"))
      out.append(header.substr(field.start, field.end - field.start));
    pos = next;
  }
  return out;
}

class BinaryWriter {
 public:
  explicit BinaryWriter(std::string_view message) : message_(message) {}

  // Checks the whole message: unknown encodings first, then undecodable bodies.
  std::optional<DecodeError> check(const Part& root) {
    if (has_unknown_encoding(root)) return DecodeError::kUnknownEncoding;
    return first_decode_error(root);
  }

  void write(const Part& part, bool include_header, std::string& out) {
    TransferEncoding encoding = part_transfer_encoding(message_, part);
    bool converted =
        encoding == TransferEncoding::kBase64 || encoding == TransferEncoding::kQuotedPrintable;
    if (include_header) {
      std::string_view header = bytes(part.offset, part.body_offset());
      if (converted)
        out += converted_header(header);
      else
        out.append(header);
    }
    if (!part.children.empty()) {
      uint64_t pos = part.body_offset();
      for (const Part& child : part.children) {
        out.append(bytes(pos, child.offset));
        write(child, true, out);
        pos = child.end();
      }
      out.append(bytes(pos, part.end()));
      return;
    }
    if (part.body_size == 0) return;
    out += decode_body(bytes(part.body_offset(), part.end()), encoding).data;
  }

 private:
  std::string_view bytes(uint64_t from, uint64_t to) const {
    if (from >= message_.size() || to <= from) return {};
    return message_.substr(from, to - from);
  }

  bool has_unknown_encoding(const Part& part) const {
    if (part_transfer_encoding(message_, part) == TransferEncoding::kUnknown) return true;
    for (const Part& child : part.children) {
      if (has_unknown_encoding(child)) return true;
    }
    return false;
  }

  std::optional<DecodeError> first_decode_error(const Part& part) const {
    if (part.children.empty()) {
      if (part.body_size == 0) return std::nullopt;
      TransferEncoding encoding = part_transfer_encoding(message_, part);
      return decode_body(bytes(part.body_offset(), part.end()), encoding).error;
    }
    for (const Part& child : part.children) {
      if (auto error = first_decode_error(child)) return error;
    }
    return std::nullopt;
  }

  std::string_view message_;
};

}  // namespace

TransferEncoding parse_transfer_encoding(std::string_view value) {
  Rfc822Reader reader(value);
  reader.skip_lwsp();
  std::string token;
  reader.parse_mime_token(token);
  if (iequals(token, "7bit") || iequals(token, "8bit")) return TransferEncoding::k7bit8bit;
  if (iequals(token, "binary")) return TransferEncoding::kBinary;
  if (iequals(token, "base64")) return TransferEncoding::kBase64;
  if (iequals(token, "quoted-printable")) return TransferEncoding::kQuotedPrintable;
  return TransferEncoding::kUnknown;
}

std::string_view decode_error_code(DecodeError error) {
  switch (error) {
    case DecodeError::kUnknownEncoding:
      return "UNKNOWN-CTE";
    case DecodeError::kInvalidData:
    case DecodeError::kTruncated:
      return "PARSE";
  }
  return "PARSE";
}

Decoded decode_base64(std::string_view in) {
  Decoded d;
  d.data.reserve(in.size() / 4 * 3 + 3);
  auto stop = [&](DecodeError error) {
    d.error = error;
    return d;
  };
  unsigned buf = 0;
  int sub = 0;
  size_t i = 0;
  for (; i < in.size(); ++i) {
    unsigned char v = kBase64[static_cast<unsigned char>(in[i])];
    if (v == 0xff) {
      if (is_space(in[i])) continue;
      break;
    }
    switch (sub) {
      case 0:
        buf = v;
        break;
      case 1:
        d.data.push_back(static_cast<char>((buf << 2) | (v >> 4)));
        buf = v;
        break;
      case 2:
        d.data.push_back(static_cast<char>(((buf << 4) | (v >> 2)) & 0xff));
        buf = v;
        break;
      default:
        d.data.push_back(static_cast<char>(((buf << 6) & 0xc0) | v));
        buf = 0;
        break;
    }
    sub = (sub + 1) % 4;
  }
  if (i < in.size()) {
    // Not an alphabet character: only the "=" padding may end the data (RFC 2045 §6.8).
    auto skip_space = [&] {
      while (i < in.size() && is_space(in[i])) ++i;
    };
    if (sub < 2 || in[i] != '=') return stop(DecodeError::kInvalidData);
    ++i;
    if (sub == 2) {
      skip_space();
      if (i == in.size()) return stop(DecodeError::kTruncated);
      if (in[i] != '=') return stop(DecodeError::kInvalidData);
      ++i;
    }
    skip_space();
    if (i < in.size()) return stop(DecodeError::kInvalidData);
    sub = 0;
  }
  if (sub != 0) return stop(DecodeError::kTruncated);
  return d;
}

namespace {

// Quoted-printable (RFC 2045 §6.7). With `lenient`, a broken escape is kept as it was
// written and decoding goes on, as a reader would want; otherwise decoding stops there.
Decoded decode_qp(std::string_view in, bool lenient) {
  enum class St { kText, kBlank, kEquals, kEqualsBlank, kHex2, kCr, kSoftCr };
  Decoded d;
  d.data.reserve(in.size());
  std::string blanks;
  St st = St::kText;
  char high = 0;
  // Puts back what a broken sequence held; false when decoding has to stop.
  auto invalid = [&]() {
    if (!d.error) d.error = DecodeError::kInvalidData;
    if (!lenient) return false;
    switch (st) {
      case St::kEquals:
        d.data += '=';
        break;
      case St::kHex2:
        d.data += '=';
        d.data += high;
        break;
      case St::kEqualsBlank:
        d.data += '=';
        d.data += blanks;
        break;
      case St::kCr:
        d.data += blanks;
        d.data += '\r';
        break;
      case St::kSoftCr:
        d.data += '=';
        d.data += blanks;
        d.data += '\r';
        break;
      case St::kText:
      case St::kBlank:
        break;
    }
    blanks.clear();
    st = St::kText;
    return true;
  };
  for (size_t i = 0; i < in.size();) {
    char c = in[i];
    switch (st) {
      case St::kText:
        if (c == '=') {
          st = St::kEquals;
        } else if (c == '\r') {
          st = St::kCr;
        } else if (c == '\n') {
          d.data += "\r\n";
        } else if (is_blank(c)) {
          blanks.push_back(c);
          st = St::kBlank;
        } else {
          d.data.push_back(c);
        }
        break;
      case St::kBlank:
        if (is_blank(c)) {
          if (blanks.size() <= kQpMaxBlanks) blanks.push_back(c);
        } else if (c == '\r') {
          st = St::kCr;
        } else if (c == '\n') {
          // Trailing blanks are not part of the text (RFC 2045 §6.7 (3)).
          d.data += "\r\n";
          blanks.clear();
          st = St::kText;
        } else {
          d.data += blanks;
          bool too_long = blanks.size() > kQpMaxBlanks;
          blanks.clear();
          st = St::kText;
          if (too_long) {
            if (!d.error) d.error = DecodeError::kInvalidData;
            if (!lenient) return d;
          }
          continue;
        }
        break;
      case St::kEquals:
        if (hex_value(c) >= 0) {
          high = c;
          st = St::kHex2;
        } else if (is_blank(c)) {
          blanks.push_back(c);
          st = St::kEqualsBlank;
        } else if (c == '\r') {
          st = St::kSoftCr;
        } else if (c == '\n') {
          st = St::kText;  // soft line break
        } else {
          if (!invalid()) return d;
          continue;
        }
        break;
      case St::kHex2:
        if (hex_value(c) < 0) {
          if (!invalid()) return d;
          continue;
        }
        d.data.push_back(static_cast<char>(hex_value(high) * 16 + hex_value(c)));
        st = St::kText;
        break;
      case St::kEqualsBlank:
        if (is_blank(c)) {
          if (blanks.size() <= kQpMaxBlanks) blanks.push_back(c);
        } else if (c == '\r') {
          st = St::kSoftCr;
        } else if (c == '\n') {
          blanks.clear();
          st = St::kText;
        } else {
          if (!invalid()) return d;
          continue;
        }
        break;
      case St::kCr:
      case St::kSoftCr:
        if (c != '\n') {
          if (!invalid()) return d;
          continue;
        }
        if (st == St::kCr) d.data += "\r\n";
        blanks.clear();
        st = St::kText;
        break;
    }
    ++i;
  }
  if (st != St::kText && st != St::kBlank) invalid();
  return d;
}

}  // namespace

Decoded decode_quoted_printable(std::string_view in) {
  return decode_qp(in, false);
}

std::string decode_body_for_search(std::string_view body, TransferEncoding encoding) {
  switch (encoding) {
    case TransferEncoding::kBase64:
      return decode_base64(body).data;
    case TransferEncoding::kQuotedPrintable:
      return decode_qp(body, true).data;
    case TransferEncoding::k7bit8bit:
    case TransferEncoding::kBinary:
    case TransferEncoding::kUnknown:
      break;
  }
  return std::string(body);
}

Decoded decode_body(std::string_view body, TransferEncoding encoding) {
  switch (encoding) {
    case TransferEncoding::k7bit8bit:
    case TransferEncoding::kBinary:
      return Decoded{std::string(body), std::nullopt};
    case TransferEncoding::kBase64:
      return decode_base64(body);
    case TransferEncoding::kQuotedPrintable:
      return decode_quoted_printable(body);
    case TransferEncoding::kUnknown:
      break;
  }
  return failed(DecodeError::kUnknownEncoding);
}

TransferEncoding part_transfer_encoding(std::string_view message, const Part& part) {
  TransferEncoding encoding = TransferEncoding::k7bit8bit;
  size_t pos = part.offset;
  HeaderField field;
  for (;;) {
    size_t next = 0;
    if (read_header_field(message, pos, field, next) != HeaderStep::kField) break;
    if (iequals(field.name, "Content-Transfer-Encoding")) {
      // The value is read line by line: a folded value is not understood.
      encoding = field.value.find('\n') == std::string::npos ? parse_transfer_encoding(field.value)
                                                             : TransferEncoding::kUnknown;
    }
    pos = next;
  }
  return encoding;
}

Decoded binary_section(std::string_view message, const MessageStructure& structure,
                       const Part& part, bool include_header) {
  BinaryWriter writer(message);
  if (auto error = writer.check(structure.root)) return failed(*error);
  Decoded d;
  writer.write(part, include_header, d.data);
  return d;
}

BinarySize binary_size(std::string_view message, const MessageStructure& structure,
                       const Part& part, bool include_header) {
  Decoded d = binary_section(message, structure, part, include_header);
  return BinarySize{d.data.size(), d.error};
}

}  // namespace chapar::mime
