// SPDX-License-Identifier: AGPL-3.0-or-later
#include "libmailstore/mime/rfc822_reader.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "libmailstore/mime/header_reader.hpp"

namespace chapar::mime {
namespace {

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";  // U+FFFD

// 1: atext, 2: letters/digits (and 8-bit), 4: atext that is a MIME tspecial ("/", "=", "?").
constexpr std::array<unsigned char, 256> make_atext_table() {
  std::array<unsigned char, 256> t{};
  for (int c = 0; c < 256; ++c) {
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c >= 128)
      t[c] = 2;
  }
  for (unsigned char c : std::string_view("!#$%&'*+-^_`{|}~")) t[c] = 1;
  for (unsigned char c : std::string_view("/=?")) t[c] = 4;
  return t;
}

constexpr std::array<unsigned char, 256> kAtext = make_atext_table();

bool is_lwsp_octet(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

}  // namespace

bool is_atext(unsigned char c) {
  return kAtext[c] != 0;
}
bool is_token_char(unsigned char c) {
  return (kAtext[c] & 3) != 0;
}

int Rfc822Reader::skip_comment() {
  int level = 1;
  if (last_comment_ != nullptr) last_comment_->clear();
  const size_t opening = pos_;
  if (failed_comment_work_ > 4 * data_.size() + 4096) {
    // Comments that never close have been scanned to the end again and again (a value
    // like "; (; (; (..."): give up on comments instead of going quadratic.
    pos_ = data_.size();
    return -1;
  }
  size_t start = ++pos_;
  for (; pos_ < data_.size(); ++pos_) {
    switch (data_[pos_]) {
      case '\0':
        if (replace_nuls_ && last_comment_ != nullptr) {
          last_comment_->append(data_.substr(start, pos_ - start));
          last_comment_->append(kReplacementChar);
          start = pos_ + 1;
        }
        break;
      case '(':
        ++level;
        break;
      case ')':
        if (--level == 0) {
          if (last_comment_ != nullptr) last_comment_->append(data_.substr(start, pos_ - start));
          ++pos_;
          return at_end() ? 0 : 1;
        }
        break;
      case '\\':
        if (last_comment_ != nullptr) last_comment_->append(data_.substr(start, pos_ - start));
        start = pos_ + 1;
        ++pos_;
        if (at_end()) return -1;
        break;
      default:
        break;
    }
  }
  failed_comment_work_ += data_.size() - opening;
  return -1;  // missing ")"
}

int Rfc822Reader::skip_lwsp() {
  while (!at_end()) {
    if (is_lwsp_octet(peek())) {
      ++pos_;
      continue;
    }
    if (peek() != '(') break;
    if (skip_comment() < 0) return -1;
  }
  return at_end() ? 0 : 1;
}

int Rfc822Reader::parse_atom(std::string& out) {
  if (at_end() || !is_atext(peek())) return -1;
  size_t start = pos_++;
  for (; !at_end(); ++pos_) {
    if (is_atext(peek())) continue;
    out.append(data_.substr(start, pos_ - start));
    return skip_lwsp();
  }
  out.append(data_.substr(start));
  return 0;
}

int Rfc822Reader::parse_dot_atom(std::string& out) {
  // RFC 822 compatibility: whitespace is allowed around the dots.
  if (at_end() || !is_atext(peek())) return -1;
  size_t start = pos_++;
  while (!at_end()) {
    if (is_atext(peek())) {
      ++pos_;
      continue;
    }
    out.append(data_.substr(start, pos_ - start));
    int ret = skip_lwsp();
    if (ret <= 0) return ret;
    if (peek() != '.') return 1;
    ++pos_;
    out.push_back('.');
    ret = skip_lwsp();
    if (ret <= 0) return ret;
    start = pos_;
  }
  out.append(data_.substr(start));
  return 0;
}

int Rfc822Reader::parse_mime_token(std::string& out) {
  size_t start = pos_;
  for (; !at_end(); ++pos_) {
    if (is_token_char(peek()) || peek() == '.') continue;
    out.append(data_.substr(start, pos_ - start));
    return skip_lwsp();
  }
  out.append(data_.substr(start));
  return 0;
}

int Rfc822Reader::parse_quoted_string(std::string& out) {
  ++pos_;  // the opening quote
  size_t start = pos_;
  for (; !at_end(); ++pos_) {
    switch (data_[pos_]) {
      case '\0':
        if (replace_nuls_) {
          out.append(data_.substr(start, pos_ - start));
          out.append(kReplacementChar);
          start = pos_ + 1;
        }
        break;
      case '"':
        out.append(data_.substr(start, pos_ - start));
        ++pos_;
        return skip_lwsp();
      case '\n': {
        // Folding whitespace: drop the (CR)LF, keep what follows.
        size_t len = pos_ - start;
        if (len > 0 && data_[start + len - 1] == '\r') --len;
        out.append(data_.substr(start, len));
        start = pos_ + 1;
        break;
      }
      case '\\':
        ++pos_;
        if (at_end()) return -1;
        out.append(data_.substr(start, pos_ - start - 1));
        start = pos_;
        break;
      default:
        break;
    }
  }
  return -1;  // missing closing quote
}

int Rfc822Reader::parse_atom_or_dot(std::string& out) {
  // Unlike parse_dot_atom this keeps the spacing: a phrase is words separated by one space.
  size_t start = pos_;
  for (; !at_end(); ++pos_) {
    if (is_atext(peek()) || peek() == '.') continue;
    out.append(data_.substr(start, pos_ - start));
    return skip_lwsp();
  }
  out.append(data_.substr(start));
  return 0;
}

int Rfc822Reader::parse_phrase(std::string& out) {
  // phrase = 1*word / obs-phrase (RFC 5322 §3.2.5, §4.1): dots are accepted between words.
  if (at_end()) return 0;
  if (peek() == '.') return -1;
  for (;;) {
    int ret = peek() == '"' ? parse_quoted_string(out) : parse_atom_or_dot(out);
    if (ret <= 0) return ret;
    if (!is_atext(peek()) && peek() != '"' && peek() != '.') break;
    out.push_back(' ');
  }
  return skip_lwsp();
}

int Rfc822Reader::parse_domain_literal(std::string& out) {
  size_t start = pos_;
  for (; !at_end(); ++pos_) {
    if (peek() == '\\') {
      ++pos_;
      if (at_end()) break;
    } else if (peek() == ']') {
      ++pos_;
      out.append(data_.substr(start, pos_ - start));
      return skip_lwsp();
    }
  }
  return -1;  // missing "]"
}

int Rfc822Reader::parse_domain(std::string& out) {
  ++pos_;  // "@"
  if (skip_lwsp() <= 0) return -1;
  if (peek() == '[') return parse_domain_literal(out);
  return parse_dot_atom(out);
}

int Rfc822Reader::parse_content_type(std::string& out) {
  // RFC 2045 §5.1: type "/" subtype, then parameters or nothing. On anything else `out`
  // is left without the "/subtype" (or empty), so that a broken header is not mistaken
  // for a valid one.
  size_t start = out.size();
  if (skip_lwsp() <= 0) return -1;
  if (parse_mime_token(out) <= 0 || out.size() == start) return -1;
  if (peek() != '/') {
    out.resize(start);
    return -1;
  }
  ++pos_;
  if (skip_lwsp() <= 0) {
    out.resize(start);
    return -1;
  }
  out.push_back('/');
  size_t subtype = out.size();
  int ret = parse_mime_token(out);
  if (ret < 0 || out.size() == subtype || (!at_end() && peek() != ';')) {
    out.resize(start);
    return -1;
  }
  return ret;
}

int Rfc822Reader::parse_content_param(std::string& key, std::string& value) {
  key.clear();
  value.clear();
  if (at_end()) return 0;
  if (peek() != ';') return -1;
  ++pos_;
  if (skip_lwsp() <= 0) return -1;
  if (parse_mime_token(key) <= 0) return -1;
  if (peek() != '=') return -1;
  ++pos_;
  int ret = skip_lwsp();
  if (ret <= 0) {
    // no value
  } else if (peek() == '"') {
    ret = parse_quoted_string(value);
  } else if (peek() == '=') {
    // Broken but common: name==?utf-8?b?...?= (an unquoted encoded word).
    while (!at_end() && peek() != ';' && peek() != ' ' && peek() != '\t' && peek() != '\r' &&
           peek() != '\n') {
      value.push_back(static_cast<char>(peek()));
      ++pos_;
    }
  } else {
    ret = parse_mime_token(value);
  }
  return ret < 0 ? -1 : 1;
}

namespace {

struct Rfc2231Piece {
  std::string key;
  std::string value;
  unsigned index = 0;
  bool extended = false;
};

void append_escaped_percent(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '%')
      out += "%25";
    else
      out.push_back(c);
  }
}

}  // namespace

std::vector<Param> parse_mime_params(Rfc822Reader& reader) {
  std::vector<Param> result;
  std::vector<Rfc2231Piece> pieces;
  std::string key;
  std::string value;
  // The index carries over from one "key*" to the next "key*" without digits, exactly as the
  // reference implementation does; it only matters for malformed input.
  unsigned index = 0;
  reader.set_replace_nuls(true);
  for (;;) {
    int ret = reader.parse_content_param(key, value);
    if (ret == 0) break;
    if (ret < 0) {
      // Skip one octet and try again: a stray ";" or garbage must not hide later parameters.
      if (reader.at_end()) break;
      reader.advance();
      continue;
    }
    size_t star = key.find('*');
    bool is_rfc2231 = false;
    if (star != std::string::npos) {
      size_t p = star;
      if (p + 1 < key.size()) {
        ++p;
        index = 0;
        while (p < key.size() && key[p] >= '0' && key[p] <= '9') {
          index = index * 10 + static_cast<unsigned>(key[p] - '0');
          ++p;
        }
      }
      bool extended = false;
      if (p < key.size() && key[p] == '*') {
        extended = true;
        ++p;
      }
      if (p >= key.size()) {
        is_rfc2231 = true;
        pieces.push_back(Rfc2231Piece{key.substr(0, star), value, index, extended});
      }
    }
    if (!is_rfc2231) result.push_back(Param{key, value});
  }
  reader.set_replace_nuls(false);
  if (pieces.empty()) return result;

  // RFC 2231 §3: join key*0, key*1, ... in index order. When an index is missing the pieces
  // are kept apart under their own names.
  std::stable_sort(pieces.begin(), pieces.end(), [](const auto& a, const auto& b) {
    int c = std::strcmp(a.key.c_str(), b.key.c_str());
    if (c != 0) return c < 0;
    return a.index < b.index;
  });
  for (size_t i = 0, next = 0; i < pieces.size(); i = next) {
    bool ok = true;
    bool have_extended = false;
    unsigned next_index = 0;
    size_t j = i;
    for (; j < pieces.size(); ++j) {
      if (!iequals(pieces[i].key, pieces[j].key)) break;
      if (pieces[j].index != next_index) ok = false;
      if (pieces[j].extended) have_extended = true;
      ++next_index;
    }
    next = j;
    if (!ok) {
      for (j = i; j < next; ++j) {
        std::string name = pieces[j].key + "*" + std::to_string(pieces[j].index);
        if (pieces[j].extended) name += "*";
        result.push_back(Param{std::move(name), pieces[j].value});
      }
      continue;
    }
    std::string joined;
    if (!pieces[i].extended && have_extended) joined = "''";
    for (j = i; j < next; ++j) {
      if (!pieces[j].extended && have_extended)
        append_escaped_percent(joined, pieces[j].value);
      else
        joined += pieces[j].value;
    }
    result.push_back(Param{have_extended ? pieces[i].key + "*" : pieces[i].key, joined});
  }
  return result;
}

}  // namespace chapar::mime
