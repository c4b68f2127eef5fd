// SPDX-License-Identifier: AGPL-3.0-or-later
// The IMAP command reader and parser: framing with literals ({n}, {n+}, ~{n}) split at
// arbitrary points, the argument tree, and the typed parsers each command applies to it:
// sequence sets, SEARCH keys, FETCH attributes, STORE, SELECT parameters, LIST, STATUS,
// APPEND, dates and mailbox names (modified UTF-7).
//
// Also checked: a string the response writer quotes or encodes reads back as it was.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "imapd/arguments.hpp"
#include "imapd/command_reader.hpp"
#include "imapd/parser.hpp"
#include "imapd/response.hpp"
#include "libmailstore/spool.hpp"
#include "tests/fuzz/fuzz_promise.hpp"

namespace {

using namespace chapar;
using imap::Arg;

using fuzz::require;

void check_sequence_set(std::string_view text) {
  auto set = imap::parse_sequence_set(text);
  if (!set) return;
  for (uint32_t star : {0u, 1u, 7u, 4294967295u}) {
    imap::Intervals intervals = imap::resolve(*set, star);
    std::vector<uint32_t> values;
    for (auto [first, last] : intervals) {
      require(first <= last, "resolved intervals are ordered");
      (void)imap::contains(intervals, first);
      for (uint64_t v = first; v <= last && values.size() < 64; ++v) {
        values.push_back(static_cast<uint32_t>(v));
      }
    }
    std::string formatted = imap::format_sequence_set(values);
    if (!values.empty()) require(imap::parse_sequence_set(formatted).has_value(), "format parses");
  }
}

void check_strings(const Arg& arg) {
  if (arg.is_list()) {
    for (const Arg& child : arg.children) check_strings(child);
    return;
  }
  (void)arg.is_nil();
  check_sequence_set(arg.value);
  (void)imap::parse_number(arg.value);
  (void)imap::parse_search_date(arg.value);
  (void)imap::parse_date_time(arg.value);
  for (bool utf8 : {false, true}) {
    auto name = imap::decode_mailbox_name(arg.value, utf8);
    if (name) {
      auto again = imap::decode_mailbox_name(imap::encode_mailbox_name(*name, utf8), utf8);
      require(again && *again == *name, "a mailbox name reads back as written");
    }
    std::string out;
    imap::append_astring(out, arg.value, utf8);
    imap::append_nstring(out, arg.value, utf8);
    imap::append_mailbox(out, arg.value, utf8);
  }
}

void check_command(const imap::Command& command) {
  std::span<const Arg> args(command.args);
  for (const Arg& arg : args) check_strings(arg);
  std::span<const Arg> after_first = args.empty() ? args : args.subspan(1);
  std::string_view name = command.name;
  if (name.starts_with("UID ")) name.remove_prefix(4);
  if (name == "FETCH") {
    auto fetch = imap::parse_fetch(after_first);
    if (auto* request = std::get_if<imap::FetchRequest>(&fetch)) {
      for (const imap::FetchItem& item : request->items) (void)imap::fetch_item_name(item);
    }
  } else if (name == "SEARCH") {
    (void)imap::parse_search(args);
  } else if (name == "STORE") {
    (void)imap::parse_store(after_first);
  } else if (name == "SELECT" || name == "EXAMINE") {
    (void)imap::parse_select_params(after_first);
  } else if (name == "LIST" || name == "LSUB") {
    (void)imap::parse_list(args);
  } else if (name == "STATUS") {
    if (args.size() > 1) (void)imap::parse_status_items(args[1]);
  } else if (name == "APPEND") {
    (void)imap::parse_append(after_first);
  }
  // Every typed parser must cope with any argument list, not just its own command's.
  (void)imap::parse_flags(args);
  (void)imap::parse_fetch(args);
  (void)imap::parse_search(after_first);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint8_t mode = data[0];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  static constexpr size_t kChunks[] = {1, 3, 16, 4096};
  size_t chunk = kChunks[mode & 3];
  imap::ReaderLimits limits;
  limits.max_command_length = (mode & 4) ? 64 : 8192;
  limits.max_literal_size = (mode & 8) ? 16 : 65536;
  std::function<std::shared_ptr<store::Spool>()> make_spool;
  if (mode & 16) {
    make_spool = [] { return std::make_shared<store::Spool>("/nonexistent", SIZE_MAX); };
  }
  imap::CommandReader reader(limits, make_spool);

  std::string buffer;
  size_t offset = 0;
  while (offset < input.size() || !buffer.empty()) {
    if (offset < input.size()) {
      size_t n = std::min(chunk, input.size() - offset);
      buffer.append(input.substr(offset, n));
      offset += n;
    }
    bool fed_everything = offset >= input.size();
    for (;;) {
      imap::CommandReader::Step step = reader.next(buffer);
      require(step.consumed <= buffer.size(), "the reader takes no more than it is given");
      buffer.erase(0, step.consumed);
      if (step.event == imap::CommandReader::Event::kNeedMore) break;
      if (step.event == imap::CommandReader::Event::kCommand) {
        imap::RawCommand raw = reader.take();
        imap::ParseResult parsed = imap::parse_command(std::move(raw));
        if (parsed.command) {
          require(imap::is_valid_tag(parsed.command->tag), "a parsed command has a valid tag");
          check_command(*parsed.command);
        }
      } else {
        (void)reader.tag();
        (void)reader.command_name();
        (void)reader.refusal();
      }
    }
    require(buffer.size() <= limits.max_command_length + 2 + chunk,
            "the reader does not let unread input pile up");
    if (fed_everything) break;
  }
  return 0;
}
