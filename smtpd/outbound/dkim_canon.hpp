// SPDX-License-Identifier: AGPL-3.0-or-later
// DKIM canonicalisation (RFC 6376 §3.4), the "relaxed" algorithms for header fields and
// body, and the body hash computed as the body streams past (a 50 MB message is never held
// whole). Pure.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace chapar::smtp::outbound {

// One header field as it appears in the message, folded lines and final CRLF included.
struct HeaderField {
  std::string_view name;  // as written, without surrounding whitespace
  std::string_view raw;   // "Subject: hello\r\n world\r\n"
};

// The fields of a header block (the message up to the blank line, or all of it when there
// is none). Text before the first field that is not a field is skipped.
std::vector<HeaderField> split_header_fields(std::string_view header);

// The length of the header block including the blank line that ends it; the whole input when
// there is no blank line.
size_t header_length(std::string_view message);

// RFC 6376 §3.4.2: "name:value\r\n" with the name in lower case, folding removed, runs of
// whitespace made one space, whitespace around the colon and at the end removed.
std::string relaxed_header(std::string_view raw_field);

// RFC 6376 §3.4.4, fed in pieces split anywhere: whitespace runs become one space, trailing
// whitespace on a line goes, empty lines at the end go, and a non-empty body ends in CRLF.
class RelaxedBody {
 public:
  // Canonical output so far is appended to `out`.
  void feed(std::string_view bytes, std::string& out);
  void finish(std::string& out);

 private:
  size_t blank_lines_ = 0;  // empty lines held back: they count only if text follows
  bool pending_space_ = false;
  bool pending_cr_ = false;
  bool line_has_text_ = false;
  void end_line(std::string& out);
  void text(char c, std::string& out);
};

// SHA-256 over the relaxed body (the bh= tag).
class BodyHasher {
 public:
  BodyHasher();
  ~BodyHasher();
  BodyHasher(const BodyHasher&) = delete;
  BodyHasher& operator=(const BodyHasher&) = delete;

  void update(std::string_view bytes);
  // Base64 of the digest.
  std::string finish();

 private:
  void flush();
  RelaxedBody canon_;
  std::string buffer_;
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> md_;
};

}  // namespace chapar::smtp::outbound
