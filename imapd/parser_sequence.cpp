// SPDX-License-Identifier: AGPL-3.0-or-later
// Sequence sets, numbers and dates.
#include <algorithm>

#include <fmt/format.h>

#include "common/text/date.hpp"
#include "imapd/arguments.hpp"

namespace chapar::imap {
namespace {

std::optional<uint32_t> seq_number(std::string_view text) {
  if (text == "*") return kStar;
  auto n = parse_number(text, UINT32_MAX);
  if (!n || *n == 0) return std::nullopt;
  return static_cast<uint32_t>(*n);
}

}  // namespace

std::optional<uint64_t> parse_number(std::string_view text, uint64_t max) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (max - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::optional<SequenceSet> parse_sequence_set(std::string_view text) {
  SequenceSet set;
  if (text == "$") {
    set.saved_result = true;
    return set;
  }
  if (text.empty()) return std::nullopt;
  size_t start = 0;
  for (;;) {
    size_t comma = text.find(',', start);
    std::string_view item =
        text.substr(start, comma == std::string_view::npos ? comma : comma - start);
    size_t colon = item.find(':');
    SeqRange range;
    if (colon == std::string_view::npos) {
      auto n = seq_number(item);
      if (!n) return std::nullopt;
      range = {*n, *n};
    } else {
      auto a = seq_number(item.substr(0, colon));
      auto b = seq_number(item.substr(colon + 1));
      if (!a || !b) return std::nullopt;
      range = {*a, *b};
    }
    set.ranges.push_back(range);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return set;
}

Intervals resolve(const SequenceSet& set, uint32_t star) {
  Intervals out;
  for (const SeqRange& r : set.ranges) {
    uint32_t a = r.first == kStar ? star : r.first;
    uint32_t b = r.last == kStar ? star : r.last;
    if (a > b) std::swap(a, b);
    if (b == 0) continue;  // "*" in an empty mailbox
    if (a == 0) a = 1;
    out.emplace_back(a, b);
  }
  std::sort(out.begin(), out.end());
  Intervals merged;
  for (const auto& r : out) {
    if (!merged.empty() &&
        (merged.back().second == UINT32_MAX || r.first <= merged.back().second + 1)) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

bool contains(const Intervals& intervals, uint32_t value) {
  auto it = std::upper_bound(intervals.begin(), intervals.end(), value,
                             [](uint32_t v, const auto& r) { return v < r.first; });
  if (it == intervals.begin()) return false;
  --it;
  return value >= it->first && value <= it->second;
}

std::string format_sequence_set(std::span<const uint32_t> values) {
  std::string out;
  size_t i = 0;
  while (i < values.size()) {
    size_t j = i;
    while (j + 1 < values.size() && values[j + 1] == values[j] + 1) ++j;
    if (!out.empty()) out.push_back(',');
    if (j == i) {
      fmt::format_to(std::back_inserter(out), "{}", values[i]);
    } else {
      fmt::format_to(std::back_inserter(out), "{}:{}", values[i], values[j]);
    }
    i = j + 1;
  }
  return out;
}

// RFC 9051 §9 date-text and date-time, in the forms common/text reads and writes.
std::optional<int64_t> parse_search_date(std::string_view text) {
  auto date = text::parse_imap_date(text);
  if (!date) return std::nullopt;
  return text::days_from_civil(*date);
}

std::optional<int64_t> parse_date_time(std::string_view text) {
  auto time = text::parse_imap_date_time(text);
  if (!time) return std::nullopt;
  return time->time;
}

std::string format_date_time(int64_t unix_seconds) {
  return text::format_imap_date_time(unix_seconds, 0);
}

}  // namespace chapar::imap
