// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/net/line_reader.hpp"

#include <algorithm>

namespace chapar::net {

LineReader::LineReader(LineReaderOptions options) : options_(options) {}

void LineReader::compact() {
  if (start_ == 0) return;
  if (start_ == buffer_.size()) {
    buffer_.clear();
  } else if (start_ >= buffer_.size() / 2 || start_ >= 64 * 1024) {
    buffer_.erase(0, start_);
  } else {
    return;
  }
  start_ = 0;
}

void LineReader::feed(std::string_view bytes) {
  compact();
  buffer_.append(bytes);
}

void LineReader::consume(size_t n) {
  n = std::min(n, buffered());
  start_ += n;
  scanned_ = scanned_ > n ? scanned_ - n : 0;
  compact();
}

void LineReader::clear() {
  buffer_.clear();
  start_ = 0;
  scanned_ = 0;
  discarding_ = false;
  overlong_prefix_.clear();
}

std::optional<Line> LineReader::next() {
  compact();
  const size_t max = std::max<size_t>(options_.max_length, 1);
  std::string_view pending = peek();
  // Find the end of the first line: LF, preceded by CR unless bare LF ends lines too.
  size_t end = std::string_view::npos;
  for (size_t from = scanned_; from < pending.size();) {
    size_t lf = pending.find('\n', from);
    if (lf == std::string_view::npos) break;
    bool crlf = lf > 0 && pending[lf - 1] == '\r';
    if (crlf || options_.bare_lf_ends_line) {
      end = lf;
      break;
    }
    from = lf + 1;
  }

  if (discarding_) {
    if (end == std::string_view::npos) {
      // Still inside the overlong line: keep nothing of it but the last byte, which may be
      // the CR of a CRLF split across reads.
      bool cr_last = !pending.empty() && pending.back() == '\r';
      start_ += cr_last ? pending.size() - 1 : pending.size();
      scanned_ = buffered();
      return std::nullopt;
    }
    start_ += end + 1;
    scanned_ = 0;
    discarding_ = false;
    return Line{overlong_prefix_, true, false};
  }

  if (end == std::string_view::npos) {
    scanned_ = pending.size();
    if (pending.size() >= max) {
      // No terminator can make this fit any more.
      overlong_prefix_.assign(pending.substr(0, max));
      // Keep a trailing CR: it may pair with an LF in the next read.
      size_t drop = pending.back() == '\r' ? pending.size() - 1 : pending.size();
      start_ += drop;
      scanned_ = buffered();
      discarding_ = true;
    }
    return std::nullopt;
  }

  std::string_view raw = pending.substr(0, end + 1);
  start_ += raw.size();
  scanned_ = 0;
  if (raw.size() > max) return Line{raw.substr(0, max), true, false};
  bool crlf = end > 0 && raw[end - 1] == '\r';
  return Line{raw.substr(0, crlf ? end - 1 : end), false, !crlf};
}

}  // namespace chapar::net
