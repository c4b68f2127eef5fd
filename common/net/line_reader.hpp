// SPDX-License-Identifier: AGPL-3.0-or-later
// Line framing for the text protocols, with no I/O: bytes go in with feed(), complete lines
// come out of next(). A line longer than the limit is reported once, when its end arrives,
// and is never buffered beyond the limit: the reader keeps its first max_length bytes and
// discards the rest, so a peer cannot make it grow by never sending a line end.
//
// Raw access (peek/consume) serves data that is counted rather than framed: IMAP literals
// (RFC 9051 §4.3) and SMTP BDAT chunks (RFC 3030 §2).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace chapar::net {

struct LineReaderOptions {
  // The longest acceptable line, terminator included (RFC 5321 §4.5.3.1.4: 1000 for SMTP).
  size_t max_length = 1000;
  // Whether LF without CR ends a line. When it does, the line is flagged bare_lf so that a
  // protocol can refuse it; when it does not, a bare LF is ordinary data inside the line (what
  // SMTP DATA needs to avoid smuggling: only CRLF.CRLF ends a message).
  bool bare_lf_ends_line = true;
};

struct Line {
  // The line without its terminator. For an overlong line: its first max_length bytes as
  // received (which may include part of the terminator).
  std::string_view text;
  bool overlong = false;
  bool bare_lf = false;  // ended by LF alone
};

class LineReader {
 public:
  explicit LineReader(LineReaderOptions options = {});

  // Appends input. Bytes of an overlong line beyond the limit are dropped once detected.
  void feed(std::string_view bytes);
  // The next complete line, or nullopt when more input is needed. The view stays valid until
  // the next call of any member function.
  std::optional<Line> next();

  // Bytes buffered and not yet returned (what a session reports as buffered_input()).
  size_t buffered() const { return buffer_.size() - start_; }
  // The buffered bytes, for counted reads.
  std::string_view peek() const { return std::string_view(buffer_).substr(start_); }
  // Drops the first `n` buffered bytes (n ≤ buffered()).
  void consume(size_t n);
  // Drops everything, including a partly discarded overlong line (STARTTLS, RFC 3207 §4.2).
  void clear();

  const LineReaderOptions& options() const { return options_; }
  // Takes effect from the next line (SMTP allows longer text lines in DATA than commands).
  void set_max_length(size_t max_length) { options_.max_length = max_length; }

 private:
  void compact();

  LineReaderOptions options_;
  std::string buffer_;
  size_t start_ = 0;    // first unreturned byte in buffer_
  size_t scanned_ = 0;  // bytes after start_ already searched for a line end
  bool discarding_ = false;
  std::string overlong_prefix_;  // the kept start of the line being discarded
};

}  // namespace chapar::net
