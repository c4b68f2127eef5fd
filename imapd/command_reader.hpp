// SPDX-License-Identifier: AGPL-3.0-or-later
// Frames IMAP commands out of a byte stream: lines, and the literals announced at their ends
// ({n}, {n+} and ~{n}; RFC 9051 §4.3, RFC 7888, RFC 3516). The reader is resumable and does
// no I/O: the session hands it whatever it has buffered, and the reader says how many bytes
// it took and what happened. An incomplete line is never taken ("need more" leaves the
// buffer as it is); literal content is taken as it arrives, into memory or, for APPEND,
// into a Spool, so that a large message never has to sit in the session's input buffer.
//
// Limits: the command text outside APPEND literals may not exceed `max_command_length`
// (literals of other commands count towards it); each APPEND literal may not exceed
// `max_literal_size` (advertised as APPENDLIMIT, RFC 7889). A synchronizing literal over
// the limit is refused before the client sends it (no "+" continuation is requested); a
// non-synchronizing one is read and thrown away together with the rest of its command,
// then refused (RFC 7888 §4, choice 1). A line over the limit is thrown away as it arrives
// and its command refused once its end is seen.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libmailstore/spool.hpp"

namespace chapar::imap {

// One literal of a command, in the order it appeared.
struct Literal {
  uint64_t size = 0;
  bool binary = false;  // literal8, "~{n}" (RFC 3516 §4.2)
  std::string bytes;    // the content, unless it went to `spool`
  std::shared_ptr<store::Spool> spool;
};

// A complete command as received. `text` holds its lines without the final CRLF; each
// literal is represented in it by its announcement ("{5}\r\n", "{5+}\r\n", "~{5}\r\n")
// and its content is the next element of `literals`.
struct RawCommand {
  std::string text;
  std::vector<Literal> literals;
};

struct ReaderLimits {
  size_t max_command_length = 64 * 1024;
  uint64_t max_literal_size = 50 * 1024 * 1024;
};

class CommandReader {
 public:
  enum class Event {
    kNeedMore,        // everything usable was taken; feed more input
    kContinue,        // a synchronizing literal was accepted: send a "+" continuation
    kCommand,         // a command is complete: take() it
    kLiteralRefused,  // a synchronizing literal was over the limit; answer `tag()` NO/BAD
    kDiscarded,       // a command over the limit was read and dropped; answer `tag()`
  };
  struct Step {
    Event event = Event::kNeedMore;
    size_t consumed = 0;
  };

  // `make_spool` supplies the storage for APPEND literals; without it they stay in memory.
  explicit CommandReader(ReaderLimits limits,
                         std::function<std::shared_ptr<store::Spool>()> make_spool = {});
  CommandReader(const CommandReader&) = delete;
  CommandReader& operator=(const CommandReader&) = delete;

  // Takes what it can from the front of `input`. Call again with the rest after an event
  // other than kNeedMore.
  Step next(std::string_view input);

  // The complete command after kCommand; the reader is then ready for the next one.
  RawCommand take();

  // The tag and upper-cased command name of the command being read (empty if unknown);
  // valid after kLiteralRefused and kDiscarded to answer the refused command.
  const std::string& tag() const { return tag_; }
  const std::string& command_name() const { return name_; }
  // Why the command after kLiteralRefused or kDiscarded was refused.
  enum class Refusal { kNone, kTooBig, kStorage };
  Refusal refusal() const { return refusal_; }
  // Whether the refused command was an APPEND (the answer is NO [TOOBIG], RFC 7889 §4).
  bool refused_append() const { return is_append_; }

  // Whether part of a command has been taken: its first line, or more (literals).
  bool in_command() const { return !first_line_; }
  // Bytes of the command read so far (text and in-memory literals).
  size_t pending_size() const { return command_.text.size(); }

  // Forgets any partial command (after STARTTLS, RFC 9051 §6.2.1).
  void reset();
  // New limits for the commands that follow (larger literals once logged in).
  void set_limits(ReaderLimits limits) { limits_ = limits; }

 private:
  struct Announcement {
    uint64_t size = 0;
    bool synchronizing = true;
    bool binary = false;
  };

  Step read_line(std::string_view input);
  Step read_literal(std::string_view input);
  void note_first_line(std::string_view line);
  void discard(Refusal why);
  static bool find_announcement(std::string_view line, Announcement& out);

  ReaderLimits limits_;
  std::function<std::shared_ptr<store::Spool>()> make_spool_;

  RawCommand command_;
  uint64_t literal_total_ = 0;  // literal octets counted against max_command_length
  uint64_t literal_remaining_ = 0;
  bool in_literal_ = false;
  bool discarding_ = false;
  std::string discard_tail_;  // the end of a line being thrown away, for its announcement
  Refusal refusal_ = Refusal::kNone;
  bool first_line_ = true;
  bool is_append_ = false;
  std::string tag_;
  std::string name_;
};

}  // namespace chapar::imap
