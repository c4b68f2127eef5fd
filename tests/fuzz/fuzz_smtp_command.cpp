// SPDX-License-Identifier: AGPL-3.0-or-later
// The SMTP parsers: command lines (the shared LineReader, split_command), MAIL and RCPT with their
// ESMTP parameters, mailboxes, BDAT arguments, and the DATA and BDAT readers.
//
// Besides "no crash, no leak, no undefined behaviour" it checks two promises of the
// contracts: a mailbox's canonical form parses back to itself, and neither the lines nor the
// DATA reader's result depend on how the input was split.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "common/net/line_reader.hpp"
#include "libmailstore/spool.hpp"
#include "smtpd/command_parser.hpp"
#include "smtpd/data_reader.hpp"
#include "tests/fuzz/fuzz_promise.hpp"

namespace {

using namespace chapar;

using fuzz::require;

void check_mailbox(std::string_view text) {
  auto parsed = smtp::parse_mailbox(text);
  if (auto* mailbox = std::get_if<smtp::Mailbox>(&parsed)) {
    (void)mailbox->is_ascii();
    auto again = smtp::parse_mailbox(mailbox->address());
    auto* reparsed = std::get_if<smtp::Mailbox>(&again);
    require(reparsed != nullptr, "a mailbox's canonical form parses");
    require(reparsed->address() == mailbox->address(), "the canonical form is stable");
  }
}

void check_line(std::string_view line) {
  smtp::CommandLine command = smtp::split_command(line);
  (void)smtp::is_valid_utf8(line);
  if (command.verb.size() == 4) {
    auto mail = smtp::parse_mail(command.args);
    if (auto* m = std::get_if<smtp::MailCommand>(&mail); m && m->sender) {
      (void)m->sender->address();
    }
    (void)smtp::parse_rcpt(command.args, false);
    (void)smtp::parse_rcpt(command.args, true);
    (void)smtp::parse_bdat(command.args);
  }
  check_mailbox(command.args);
}

struct DataResult {
  std::string content;
  size_t consumed = 0;
  bool done = false;
  uint64_t size = 0;
  bool too_big = false;
  bool line_too_long = false;
};

DataResult read_data(std::string_view input, size_t chunk, uint64_t max_size, bool after_crlf) {
  auto spool = std::make_shared<store::Spool>("/nonexistent", SIZE_MAX);
  smtp::DataReader reader(spool, {max_size, 1000}, after_crlf);
  DataResult result;
  while (result.consumed < input.size() && !reader.done()) {
    std::string_view piece = input.substr(result.consumed, chunk);
    size_t taken = reader.feed(piece);
    require(taken <= piece.size(), "the DATA reader takes no more than it is given");
    result.consumed += taken;
    if (taken < piece.size()) require(reader.done(), "the DATA reader stops only at the end");
  }
  require(reader.spool_status().has_value(), "the in-memory spool does not fail");
  require(spool->finish().has_value(), "the spool finishes");
  result.content = std::string(spool->view());
  result.done = reader.done();
  result.size = reader.size();
  result.too_big = reader.too_big();
  result.line_too_long = reader.line_too_long();
  require(result.size >= result.content.size(), "size counts every stored octet");
  return result;
}

// The input read whole and read in pieces of 1 to 64 bytes (the mode's upper bits).
void check_data(std::string_view input, uint8_t mode) {
  uint64_t max_size = (mode & 1) ? 64 : UINT64_MAX;
  bool after_crlf = (mode & 2) != 0;
  size_t chunk = (mode >> 2) + 1;
  DataResult whole = read_data(input, input.size() + 1, max_size, after_crlf);
  DataResult split = read_data(input, chunk, max_size, after_crlf);
  // After a limit is passed the message is refused: how much of it was stored is of no
  // consequence.
  if (!whole.too_big && !whole.line_too_long) {
    require(split.content == whole.content, "DATA content does not depend on the split");
  }
  require(split.consumed == whole.consumed, "DATA end does not depend on the split");
  require(split.done == whole.done && split.size == whole.size && split.too_big == whole.too_big &&
              split.line_too_long == whole.line_too_long,
          "DATA verdicts do not depend on the split");
}

void check_chunks(std::string_view input, uint8_t mode) {
  auto spool = std::make_shared<store::Spool>("/nonexistent", SIZE_MAX);
  smtp::ChunkReader reader((mode & 4) ? spool : nullptr, 100);
  size_t offset = 0;
  uint64_t announced = 0;
  while (offset < input.size()) {
    uint64_t length = static_cast<uint8_t>(input[offset]) % 40;
    ++offset;
    announced += length;
    reader.start_chunk(length);
    while (!reader.chunk_done() && offset < input.size()) {
      size_t taken = reader.feed(input.substr(offset, 5));
      require(taken <= 5, "the chunk reader takes no more than it is given");
      offset += taken;
    }
  }
  require(reader.size() <= announced, "the chunk reader reads no more than announced");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint8_t mode = data[0];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  // Lines as the sessions frame them, fed in pieces; the split must not matter.
  net::LineReaderOptions options;
  options.max_length = (mode & 8) ? 16 : 1000;
  options.bare_lf_ends_line = (mode & 16) == 0;
  net::LineReader whole(options);
  net::LineReader pieces(options);
  whole.feed(input);
  size_t offset = 0;
  for (;;) {
    std::optional<net::Line> line = whole.next();
    if (!line) break;
    require(line->text.size() <= options.max_length, "a line is kept within the limit");
    std::string text(line->text);
    bool overlong = line->overlong;
    if (!overlong) check_line(text);
    std::optional<net::Line> other;
    while (!(other = pieces.next()) && offset < input.size()) {
      size_t n = std::min<size_t>((mode >> 5) + 1, input.size() - offset);
      pieces.feed(input.substr(offset, n));
      offset += n;
    }
    require(other && other->text == text && other->overlong == overlong,
            "lines do not depend on how the input was split");
    require(pieces.buffered() <= options.max_length + 3, "an unfinished line is bounded");
  }
  check_line(whole.peek());

  check_data(input, mode);
  check_chunks(input, mode);
  return 0;
}
