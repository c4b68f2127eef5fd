// SPDX-License-Identifier: AGPL-3.0-or-later
// Readers for message content: the mail data after DATA (RFC 5321 §4.1.1.4, §4.5.2) and the
// chunks after BDAT (RFC 3030). Both stream into a store::Spool as bytes arrive, whatever the
// split, and never hold more than a small buffer themselves.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "libmailstore/spool.hpp"

namespace chapar::smtp {

// Mail data up to the end-of-data line.
//
// End of data is exactly CR LF "." CR LF (RFC 5321 §4.1.1.4): the "." line must end in CR LF
// and the line before it too. LF "." LF, CR "." CR, LF "." CR LF and every other variant are
// ordinary content (SMTP smuggling), never the end of the message.
//
// Transparency (RFC 5321 §4.5.2): a line that starts with "." and has other characters loses
// that first ".". A lone "." that does not end the data is kept as it is.
//
// Line ends: a bare LF is stored as CR LF, as Postfix does by default
// (smtpd_forbid_bare_newline = normalize); a bare CR is content and kept.
//
// Limits: content past `max_size` octets is counted but not stored, and a line longer than
// `max_line_length` octets (CR LF included, a stuffed dot not) is noted; either way the reader
// keeps going to the end of the data so that the session can answer and carry on.
class DataReader {
 public:
  struct Limits {
    uint64_t max_size = 0;
    size_t max_line_length = 0;
  };

  // `after_crlf`: the DATA command line ended in CR LF, so "." CR LF straight away is the end
  // of (empty) data.
  DataReader(std::shared_ptr<store::Spool> spool, Limits limits, bool after_crlf = true);

  // Consumes data from the front of `input` and returns how many bytes it took: all of them,
  // unless the end-of-data line is among them, in which case it stops right after it.
  size_t feed(std::string_view input);

  bool done() const { return state_ == State::kDone; }
  // Octets of content seen (after unstuffing and line-end normalisation), stored or not.
  uint64_t size() const { return size_; }
  bool too_big() const { return too_big_; }
  bool line_too_long() const { return line_too_long_; }
  // The first failure writing to the spool, if any.
  const Status& spool_status() const { return status_; }

 private:
  enum class State { kLineStart, kDot, kDotCr, kInLine, kDone };

  void emit(std::string_view bytes);
  void end_line(bool crlf);
  void flush();
  // Whole lines ending in CR LF, stored unchanged, collect as one run of the current input
  // (run_); any other output, and the end of feed(), stores the run first.
  void extend_run(std::string_view lines);
  void store_run();

  std::shared_ptr<store::Spool> spool_;
  Limits limits_;
  State state_ = State::kLineStart;
  bool previous_crlf_ = true;  // the line before the current one ended in CR LF
  bool last_cr_ = false;       // the last content byte of the current line was CR
  uint64_t line_length_ = 0;   // content octets of the current line so far
  uint64_t size_ = 0;
  bool too_big_ = false;
  bool line_too_long_ = false;
  Status status_;
  std::string buffer_;
  std::string_view run_;  // into the input of the current feed() only
};

// The chunks of one BDAT transaction (RFC 3030 §2): exactly the announced number of octets
// per chunk, stored unchanged. With no spool, chunks are read and dropped (a BDAT that was
// refused must still have its data consumed, RFC 3030 §2).
class ChunkReader {
 public:
  ChunkReader(std::shared_ptr<store::Spool> spool, uint64_t max_size);

  // Begins the next chunk of `length` octets.
  void start_chunk(uint64_t length) { remaining_ = length; }
  // Consumes up to the rest of the chunk from the front of `input`; returns the bytes taken.
  size_t feed(std::string_view input);
  bool chunk_done() const { return remaining_ == 0; }

  uint64_t size() const { return size_; }
  bool too_big() const { return too_big_; }
  const Status& spool_status() const { return status_; }

 private:
  std::shared_ptr<store::Spool> spool_;
  uint64_t max_size_;
  uint64_t remaining_ = 0;
  uint64_t size_ = 0;
  bool too_big_ = false;
  Status status_;
};

}  // namespace chapar::smtp
