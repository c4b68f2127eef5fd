// SPDX-License-Identifier: AGPL-3.0-or-later
#include "smtpd/data_reader.hpp"

#include <algorithm>
#include <cstring>

namespace chapar::smtp {
namespace {

// Content is handed to the spool in pieces of about this size.
constexpr size_t kFlushThreshold = 64 * 1024;

// Finds the next CR or LF in one input with memchr (vectorised; find_first_of tests the set
// once per character). Where each was found is remembered until the reader passes it, so
// every byte is scanned at most once for each, whatever the mix of line ends.
class BreakFinder {
 public:
  explicit BreakFinder(std::string_view input) : input_(input) {}

  // The first CR or LF at or after `from` (never less than an earlier `from`), or npos.
  size_t next(size_t from) {
    refresh(cr_, '\r', from);
    refresh(lf_, '\n', from);
    return std::min(cr_, lf_);
  }

 private:
  static constexpr size_t kUnknown = std::string_view::npos - 1;

  void refresh(size_t& at, char c, size_t from) const {
    if (at != kUnknown && (at == std::string_view::npos || at >= from)) return;
    const void* found = std::memchr(input_.data() + from, c, input_.size() - from);
    at = found != nullptr ? static_cast<size_t>(static_cast<const char*>(found) - input_.data())
                          : std::string_view::npos;
  }

  std::string_view input_;
  size_t cr_ = kUnknown;
  size_t lf_ = kUnknown;
};

}  // namespace

DataReader::DataReader(std::shared_ptr<store::Spool> spool, Limits limits, bool after_crlf)
    : spool_(std::move(spool)), limits_(limits), previous_crlf_(after_crlf) {}

size_t DataReader::feed(std::string_view input) {
  BreakFinder breaks(input);
  size_t i = 0;
  while (i < input.size() && state_ != State::kDone) {
    char c = input[i];
    switch (state_) {
      case State::kLineStart:
        line_length_ = 0;
        last_cr_ = false;
        if (c == '.') {
          state_ = State::kDot;
          ++i;
        } else {
          state_ = State::kInLine;
        }
        break;
      case State::kDot:
        if (c == '\r') {
          state_ = State::kDotCr;
          ++i;
        } else if (c == '\n') {
          // "." bare LF: not the end; a lone dot is kept.
          emit(".");
          end_line(false);
          ++i;
        } else {
          // RFC 5321 §4.5.2: the stuffed dot goes; the rest of the line is content.
          state_ = State::kInLine;
        }
        break;
      case State::kDotCr:
        if (c == '\n') {
          ++i;
          if (previous_crlf_) {
            state_ = State::kDone;
          } else {
            // LF "." CR LF: the line before ended in a bare LF, so this is no end of data.
            emit(".\r");
            end_line(true);
          }
        } else {
          // "." CR followed by more: the dot was stuffed, the CR is content.
          emit("\r");
          last_cr_ = true;
          state_ = State::kInLine;
        }
        break;
      case State::kInLine: {
        size_t stop = breaks.next(i);
        if (stop != std::string_view::npos && input[stop] == '\r' && stop + 1 < input.size() &&
            input[stop + 1] == '\n') {
          // The common case: the rest of the line and its CR LF are all here. Such lines
          // are stored unchanged and go to the spool as one run rather than line by line.
          uint64_t length = line_length_ + (stop - i) + 2;
          if (length > limits_.max_line_length) line_too_long_ = true;
          extend_run(input.substr(i, stop + 2 - i));
          previous_crlf_ = true;
          state_ = State::kLineStart;
          i = stop + 2;
          break;
        }
        if (stop == std::string_view::npos) stop = input.size();
        if (stop > i) {
          emit(input.substr(i, stop - i));
          last_cr_ = false;
          i = stop;
          break;
        }
        if (c == '\r') {
          emit("\r");
          last_cr_ = true;
        } else {
          end_line(last_cr_);
        }
        ++i;
        break;
      }
      case State::kDone:
        break;
    }
  }
  store_run();
  flush();
  return i;
}

void DataReader::extend_run(std::string_view lines) {
  if (!run_.empty() && run_.data() + run_.size() != lines.data()) store_run();
  run_ = run_.empty() ? lines : std::string_view(run_.data(), run_.size() + lines.size());
}

void DataReader::store_run() {
  if (run_.empty()) return;
  std::string_view run = run_;
  run_ = {};
  size_ += run.size();
  if (size_ > limits_.max_size) too_big_ = true;
  if (too_big_ || line_too_long_ || !status_) return;
  if (buffer_.empty() && run.size() >= kFlushThreshold) {
    status_ = spool_->append(run);  // large enough to skip the buffer
    return;
  }
  buffer_.append(run);
  if (buffer_.size() >= kFlushThreshold) flush();
}

void DataReader::emit(std::string_view bytes) {
  store_run();
  line_length_ += bytes.size();
  size_ += bytes.size();
  if (size_ > limits_.max_size) too_big_ = true;
  if (too_big_ || line_too_long_ || !status_) return;
  buffer_.append(bytes);
  if (buffer_.size() >= kFlushThreshold) flush();
}

// Called at the LF that ends a line; a CR before it has already been emitted.
void DataReader::end_line(bool crlf) {
  uint64_t length = line_length_ + (crlf ? 1 : 2);
  if (length > limits_.max_line_length) line_too_long_ = true;
  emit(crlf ? "\n" : "\r\n");
  previous_crlf_ = crlf;
  state_ = State::kLineStart;
}

void DataReader::flush() {
  if (buffer_.empty()) return;
  if (status_ && !too_big_ && !line_too_long_) status_ = spool_->append(buffer_);
  buffer_.clear();
}

ChunkReader::ChunkReader(std::shared_ptr<store::Spool> spool, uint64_t max_size)
    : spool_(std::move(spool)), max_size_(max_size) {}

size_t ChunkReader::feed(std::string_view input) {
  size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, input.size()));
  remaining_ -= take;
  size_ += take;
  if (size_ > max_size_) too_big_ = true;
  if (spool_ && !too_big_ && status_ && take > 0) status_ = spool_->append(input.substr(0, take));
  return take;
}

}  // namespace chapar::smtp
