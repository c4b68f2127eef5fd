// SPDX-License-Identifier: AGPL-3.0-or-later
// Sequence sets, numbers and dates.
#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "imapd/arguments.hpp"

namespace chapar::imap {
namespace {

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr std::array<unsigned, 12> kDays = {31, 28, 31, 30, 31, 30,
                                                     31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

bool digits(std::string_view text, size_t count, unsigned& out) {
  if (text.size() != count) return false;
  out = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<unsigned>(c - '0');
  }
  return true;
}

std::optional<uint32_t> seq_number(std::string_view text) {
  if (text == "*") return kStar;
  auto n = parse_number(text, UINT32_MAX);
  if (!n || *n == 0) return std::nullopt;
  return static_cast<uint32_t>(*n);
}

// "d-Mon-yyyy" into days since the epoch.
std::optional<int64_t> parse_date_text(std::string_view text) {
  size_t dash1 = text.find('-');
  if (dash1 == std::string_view::npos || dash1 == 0 || dash1 > 2) return std::nullopt;
  size_t dash2 = text.find('-', dash1 + 1);
  if (dash2 != dash1 + 4) return std::nullopt;
  unsigned day = 0, year = 0;
  if (!digits(text.substr(0, dash1), dash1, day)) return std::nullopt;
  if (!digits(text.substr(dash2 + 1), 4, year)) return std::nullopt;
  std::string_view month = text.substr(dash1 + 1, 3);
  auto it = std::find_if(kMonths.begin(), kMonths.end(),
                         [&](std::string_view m) { return iequals(m, month); });
  if (it == kMonths.end()) return std::nullopt;
  unsigned mon = static_cast<unsigned>(it - kMonths.begin()) + 1;
  if (day < 1 || day > days_in_month(year, mon)) return std::nullopt;
  return days_from_civil(year, mon, day);
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

std::optional<int64_t> parse_search_date(std::string_view text) {
  return parse_date_text(text);
}

std::optional<int64_t> parse_date_time(std::string_view text) {
  // RFC 9051 §9: date-day-fixed "-" date-month "-" date-year SP time SP zone, where the
  // day is two digits or SP and one digit.
  if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  size_t sp = text.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  auto days = parse_date_text(text.substr(0, sp));
  if (!days) return std::nullopt;
  std::string_view rest = text.substr(sp + 1);
  if (rest.size() != 14 || rest[2] != ':' || rest[5] != ':' || rest[8] != ' ') {
    return std::nullopt;
  }
  unsigned h = 0, m = 0, s = 0, zone = 0;
  if (!digits(rest.substr(0, 2), 2, h) || !digits(rest.substr(3, 2), 2, m) ||
      !digits(rest.substr(6, 2), 2, s) || !digits(rest.substr(10, 4), 4, zone)) {
    return std::nullopt;
  }
  if (h > 23 || m > 59 || s > 60 || (rest[9] != '+' && rest[9] != '-')) return std::nullopt;
  int64_t offset = static_cast<int64_t>(zone / 100 * 3600 + zone % 100 * 60);
  if (zone % 100 > 59) return std::nullopt;
  if (rest[9] == '-') offset = -offset;
  return *days * 86400 + h * 3600 + m * 60 + s - offset;
}

std::string format_date_time(int64_t unix_seconds) {
  int64_t days = unix_seconds >= 0 ? unix_seconds / 86400 : (unix_seconds - 86399) / 86400;
  int64_t secs = unix_seconds - days * 86400;
  int64_t y = 0;
  unsigned m = 0, d = 0;
  civil_from_days(days, y, m, d);
  return fmt::format("{:02}-{}-{:04} {:02}:{:02}:{:02} +0000", d, kMonths[m - 1], y, secs / 3600,
                     secs / 60 % 60, secs % 60);
}

}  // namespace chapar::imap
