// SPDX-License-Identifier: AGPL-3.0-or-later
#include "smtpd/outbound/dkim_canon.hpp"

#include <openssl/sha.h>

#include "common/text/ascii.hpp"
#include "common/text/base64.hpp"

namespace chapar::smtp::outbound {
namespace {

bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}

}  // namespace

size_t header_length(std::string_view message) {
  if (message.substr(0, 2) == "\r\n") return 2;
  size_t blank = message.find("\r\n\r\n");
  return blank == std::string_view::npos ? message.size() : blank + 4;
}

std::vector<HeaderField> split_header_fields(std::string_view header) {
  std::vector<HeaderField> fields;
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = pos;
    // A field runs to the CRLF that is not followed by whitespace (RFC 5322 §2.2.3).
    for (;;) {
      size_t eol = header.find('\n', end);
      if (eol == std::string_view::npos) {
        end = header.size();
        break;
      }
      end = eol + 1;
      if (end >= header.size() || !is_wsp(header[end])) break;
    }
    std::string_view raw = header.substr(pos, end - pos);
    pos = end;
    if (raw == "\r\n" || raw == "\n") break;  // the blank line
    size_t colon = raw.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    std::string_view name = raw.substr(0, colon);
    while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
    fields.push_back(HeaderField{name, raw});
  }
  return fields;
}

std::string relaxed_header(std::string_view raw) {
  size_t colon = raw.find(':');
  std::string_view name = raw.substr(0, colon);
  while (!name.empty() && is_wsp(name.back())) name.remove_suffix(1);
  std::string out = text::ascii_lowercase(name);
  out.push_back(':');
  std::string_view value = colon == std::string_view::npos ? "" : raw.substr(colon + 1);
  bool space = false;
  bool started = false;
  for (char c : value) {
    if (c == '\r' || c == '\n') continue;  // unfolding
    if (is_wsp(c)) {
      space = true;
      continue;
    }
    if (space && started) out.push_back(' ');
    space = false;
    started = true;
    out.push_back(c);
  }
  out += "\r\n";
  return out;
}

void RelaxedBody::text(char c, std::string& out) {
  for (; blank_lines_ > 0; --blank_lines_) out += "\r\n";
  if (pending_space_) out.push_back(' ');
  pending_space_ = false;
  out.push_back(c);
  line_has_text_ = true;
}

void RelaxedBody::end_line(std::string& out) {
  pending_space_ = false;  // whitespace at the end of a line goes
  if (line_has_text_) {
    out += "\r\n";
  } else {
    ++blank_lines_;
  }
  line_has_text_ = false;
}

void RelaxedBody::feed(std::string_view bytes, std::string& out) {
  for (char c : bytes) {
    if (pending_cr_) {
      pending_cr_ = false;
      if (c == '\n') {
        end_line(out);
        continue;
      }
      text('\r', out);  // a lone CR is text
    }
    if (c == '\r') {
      pending_cr_ = true;
    } else if (c == '\n') {
      end_line(out);
    } else if (is_wsp(c)) {
      // A run of whitespace is one space; whether it stays depends on what follows.
      pending_space_ = true;
    } else {
      text(c, out);
    }
  }
}

void RelaxedBody::finish(std::string& out) {
  if (pending_cr_) {
    pending_cr_ = false;
    text('\r', out);
  }
  // RFC 6376 §3.4.4: a non-empty body without a final CRLF gets one.
  if (line_has_text_) out += "\r\n";
  line_has_text_ = false;
  pending_space_ = false;
  blank_lines_ = 0;
}

BodyHasher::BodyHasher() : md_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
  EVP_DigestInit_ex(md_.get(), EVP_sha256(), nullptr);
}

BodyHasher::~BodyHasher() = default;

void BodyHasher::flush() {
  if (!buffer_.empty()) EVP_DigestUpdate(md_.get(), buffer_.data(), buffer_.size());
  buffer_.clear();
}

void BodyHasher::update(std::string_view bytes) {
  canon_.feed(bytes, buffer_);
  if (buffer_.size() >= 64 * 1024) flush();
}

std::string BodyHasher::finish() {
  canon_.finish(buffer_);
  flush();
  unsigned char digest[SHA256_DIGEST_LENGTH];
  unsigned int length = 0;
  EVP_DigestFinal_ex(md_.get(), digest, &length);
  return text::base64_encode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

}  // namespace chapar::smtp::outbound
