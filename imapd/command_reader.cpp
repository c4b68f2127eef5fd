// SPDX-License-Identifier: AGPL-3.0-or-later
#include "imapd/command_reader.hpp"

#include <algorithm>
#include <limits>

#include "common/text/ascii.hpp"

namespace chapar::imap {
CommandReader::CommandReader(ReaderLimits limits,
                             std::function<std::shared_ptr<store::Spool>()> make_spool)
    : limits_(limits), make_spool_(std::move(make_spool)) {}

void CommandReader::reset() {
  command_ = RawCommand{};
  literal_total_ = 0;
  literal_remaining_ = 0;
  in_literal_ = false;
  discarding_ = false;
  discard_tail_.clear();
  first_line_ = true;
}

RawCommand CommandReader::take() {
  RawCommand out = std::move(command_);
  reset();
  return out;
}

CommandReader::Step CommandReader::next(std::string_view input) {
  size_t total = 0;
  for (;;) {
    std::string_view rest = input.substr(total);
    Step step = in_literal_ ? read_literal(rest) : read_line(rest);
    total += step.consumed;
    if (step.event != Event::kNeedMore) return {step.event, total};
    if (step.consumed == 0 || total == input.size()) return {Event::kNeedMore, total};
  }
}

void CommandReader::note_first_line(std::string_view line) {
  first_line_ = false;
  refusal_ = Refusal::kNone;
  size_t sp = line.find(' ');
  tag_ = std::string(line.substr(0, sp));
  name_.clear();
  if (sp != std::string_view::npos) {
    std::string_view rest = line.substr(sp + 1);
    name_ = text::ascii_uppercase(rest.substr(0, rest.find(' ')));
  }
  is_append_ = name_ == "APPEND";
}

// A line announces a literal when it ends in "{n}", "{n+}", "~{n}" or "~{n+}" outside a
// quoted string. Quoted strings cannot span lines, so scanning the one line suffices.
bool CommandReader::find_announcement(std::string_view line, Announcement& out) {
  if (line.empty() || line.back() != '}') return false;
  bool quoted = false;
  size_t open = std::string_view::npos;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '\\' && i + 1 < line.size()) {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
      open = std::string_view::npos;
    } else if (c == '{') {
      open = i;
    }
  }
  if (quoted || open == std::string_view::npos) return false;
  std::string_view digits = line.substr(open + 1, line.size() - open - 2);
  out = Announcement{};
  if (!digits.empty() && digits.back() == '+') {
    out.synchronizing = false;
    digits.remove_suffix(1);
  }
  if (digits.empty()) return false;
  uint64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    if (value > (std::numeric_limits<uint64_t>::max() - 9) / 10) {
      value = std::numeric_limits<uint64_t>::max();  // refused as too large below
    } else {
      value = value * 10 + static_cast<uint64_t>(c - '0');
    }
  }
  out.size = value;
  out.binary = open > 0 && line[open - 1] == '~';
  return true;
}

void CommandReader::discard(Refusal why) {
  if (!discarding_) refusal_ = why;
  discarding_ = true;
}

CommandReader::Step CommandReader::read_line(std::string_view input) {
  constexpr size_t kTailKept = 64;
  size_t nl = input.find('\n');
  size_t used = command_.text.size() + (is_append_ ? 0 : literal_total_);
  if (nl == std::string_view::npos) {
    // CRLF does not count towards the limit.
    if (!discarding_ && used + input.size() <= limits_.max_command_length + 1) {
      return {Event::kNeedMore, 0};
    }
    if (first_line_) note_first_line(input);
    discard(Refusal::kTooBig);
    discard_tail_.append(input);
    if (discard_tail_.size() > kTailKept) discard_tail_.erase(0, discard_tail_.size() - kTailKept);
    return {Event::kNeedMore, input.size()};
  }
  std::string joined;
  std::string_view line = input.substr(0, nl);
  if (!discard_tail_.empty()) {
    joined = discard_tail_;
    joined.append(line);
    discard_tail_.clear();
    line = joined;
  }
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const size_t consumed = nl + 1;
  if (first_line_) note_first_line(line);
  if (used + line.size() > limits_.max_command_length) discard(Refusal::kTooBig);

  Announcement literal;
  if (!find_announcement(line, literal)) {
    if (discarding_) {
      reset();
      return {Event::kDiscarded, consumed};
    }
    command_.text.append(line);
    return {Event::kCommand, consumed};
  }

  bool over = is_append_ ? literal.size > limits_.max_literal_size
                         : literal.size > limits_.max_command_length ||
                               used + line.size() + literal.size > limits_.max_command_length;
  if (over) discard(Refusal::kTooBig);
  if (discarding_ && literal.synchronizing) {
    // The client waits for a continuation that will not come: answer the command now.
    reset();
    return {Event::kLiteralRefused, consumed};
  }
  if (!discarding_) {
    command_.text.append(line);
    command_.text.append("\r\n");
    Literal& added = command_.literals.emplace_back();
    added.size = literal.size;
    added.binary = literal.binary;
    if (is_append_ && make_spool_) added.spool = make_spool_();
    if (!is_append_) literal_total_ += literal.size;
  }
  literal_remaining_ = literal.size;
  in_literal_ = literal.size > 0;
  if (!in_literal_ && !discarding_ && command_.literals.back().spool) {
    if (!command_.literals.back().spool->finish()) discard(Refusal::kStorage);
  }
  return {literal.synchronizing ? Event::kContinue : Event::kNeedMore, consumed};
}

CommandReader::Step CommandReader::read_literal(std::string_view input) {
  size_t n = static_cast<size_t>(std::min<uint64_t>(literal_remaining_, input.size()));
  if (!discarding_) {
    Literal& literal = command_.literals.back();
    std::string_view chunk = input.substr(0, n);
    if (literal.spool) {
      if (!literal.spool->append(chunk)) discard(Refusal::kStorage);
    } else {
      literal.bytes.append(chunk);
    }
  }
  literal_remaining_ -= n;
  if (literal_remaining_ == 0) {
    in_literal_ = false;
    if (!discarding_ && command_.literals.back().spool &&
        !command_.literals.back().spool->finish()) {
      discard(Refusal::kStorage);
    }
  }
  return {Event::kNeedMore, n};
}

}  // namespace chapar::imap
