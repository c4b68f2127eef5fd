// SPDX-License-Identifier: AGPL-3.0-or-later
// The lexical layer of RFC 5322 and RFC 2045 header values: comments, atoms, quoted strings,
// phrases, domains, MIME tokens and Content-Type parameters (with RFC 2231 continuations
// joined). The tokenizer is deliberately lenient in the same places mature servers are, so
// that broken real-world headers still yield what clients expect to see.
//
// Every parse_* function follows one convention: it returns 1 when more input follows,
// 0 when the input is exhausted, -1 when the input is invalid at the current position.
// Whitespace and comments after a token are skipped.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "libmailstore/mime/structure.hpp"

namespace chapar::mime {

// atext (RFC 5322 §3.2.3); octets >= 0x80 count as atext (RFC 6532).
bool is_atext(unsigned char c);
// A MIME token character (RFC 2045 §5.1): atext without "/", "=" and "?".
bool is_token_char(unsigned char c);

class Rfc822Reader {
 public:
  // `last_comment`, when given, receives the content of the last comment skipped.
  explicit Rfc822Reader(std::string_view data, std::string* last_comment = nullptr)
      : data_(data), last_comment_(last_comment) {}

  bool at_end() const { return pos_ >= data_.size(); }
  // The current octet; only valid when !at_end().
  unsigned char peek() const { return static_cast<unsigned char>(data_[pos_]); }
  void advance() { ++pos_; }
  size_t position() const { return pos_; }
  void set_position(size_t pos) { pos_ = pos; }
  // NUL octets inside quoted strings and comments become U+FFFD when set.
  void set_replace_nuls(bool replace) { replace_nuls_ = replace; }

  int skip_comment();
  int skip_lwsp();
  int parse_atom(std::string& out);
  int parse_dot_atom(std::string& out);
  int parse_mime_token(std::string& out);
  int parse_quoted_string(std::string& out);
  int parse_phrase(std::string& out);
  int parse_domain(std::string& out);  // at "@": the domain after it
  // "type/subtype" into `out` (as far as it goes even when -1 is returned).
  int parse_content_type(std::string& out);
  // One "; key=value" parameter.
  int parse_content_param(std::string& key, std::string& value);

 private:
  int parse_atom_or_dot(std::string& out);
  int parse_domain_literal(std::string& out);

  std::string_view data_;
  size_t pos_ = 0;
  std::string* last_comment_;
  bool replace_nuls_ = false;
  size_t failed_comment_work_ = 0;  // octets scanned by comments that had no ")"
};

// Reads all "; key=value" parameters that follow, joining RFC 2231 continuations
// (key*0, key*1*, ...) into one "key" or "key*" parameter whose value keeps the
// charset'language'%XX form. Broken parameters are skipped, never fatal.
std::vector<Param> parse_mime_params(Rfc822Reader& reader);

}  // namespace chapar::mime
