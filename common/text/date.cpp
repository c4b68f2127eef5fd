// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/text/date.hpp"

#include <array>
#include <cstdlib>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "common/text/ascii.hpp"

namespace chapar::text {
namespace {

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr int64_t kSecondsPerDay = 86400;

Unexpected bad_date(std::string_view what) {
  return fail(Errc::kInvalidArgument, fmt::format("bad date: {}", what));
}

int64_t floor_div(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

bool is_leap(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int year, int month) {
  static constexpr int kLength[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : kLength[month - 1];
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool all_alpha(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    char l = ascii_lower(c);
    if (l < 'a' || l > 'z') return false;
  }
  return true;
}

int to_int(std::string_view digits) {
  int v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return v;
}

// The month (1..12) a name such as "mar" or "March" stands for, or 0.
int month_number(std::string_view name) {
  if (name.size() < 3 || !all_alpha(name)) return 0;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (iequals(name.substr(0, 3), kMonths[i])) return static_cast<int>(i) + 1;
  }
  return 0;
}

bool is_day_name(std::string_view name) {
  if (name.size() < 3 || !all_alpha(name)) return false;
  for (std::string_view d : kDays) {
    if (iequals(name.substr(0, 3), d)) return true;
  }
  return false;
}

struct TimeOfDay {
  int hour = 0, minute = 0, second = 0;
};

// "hh:mm" or "hh:mm:ss", one or two digits each.
std::optional<TimeOfDay> parse_time(std::string_view s) {
  int parts[3] = {0, 0, 0};
  int n = 0;
  while (true) {
    size_t colon = s.find(':');
    std::string_view field = s.substr(0, colon);
    if (n == 3 || field.empty() || field.size() > 2 || !all_digits(field)) return std::nullopt;
    parts[n++] = to_int(field);
    if (colon == std::string_view::npos) break;
    s.remove_prefix(colon + 1);
  }
  if (n < 2) return std::nullopt;
  // A leap second (60) is read as 59: the instant that follows is no different.
  if (parts[0] > 23 || parts[1] > 59 || parts[2] > 60) return std::nullopt;
  return TimeOfDay{parts[0], parts[1], parts[2] == 60 ? 59 : parts[2]};
}

// "+hhmm" / "-hhmm" (also "+hh:mm"), or a zone name; nullopt when `s` is no zone.
std::optional<int> parse_zone(std::string_view s) {
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    std::string_view digits = s.substr(1);
    if (digits.size() == 5 && digits[2] == ':') {
      std::string_view hh = s.substr(1, 2), mm = s.substr(4, 2);
      if (!all_digits(hh) || !all_digits(mm) || to_int(mm) > 59) return std::nullopt;
      int offset = to_int(hh) * 60 + to_int(mm);
      return s[0] == '-' ? -offset : offset;
    }
    if (digits.size() != 4 || !all_digits(digits) || to_int(digits.substr(2)) > 59) {
      return std::nullopt;
    }
    int offset = to_int(digits.substr(0, 2)) * 60 + to_int(digits.substr(2));
    return s[0] == '-' ? -offset : offset;
  }
  if (!all_alpha(s)) return std::nullopt;
  // RFC 5322 §4.3 obs-zone.
  static constexpr std::pair<std::string_view, int> kNames[] = {
      {"UT", 0},        {"UTC", 0},       {"GMT", 0},       {"Z", 0},
      {"EST", -5 * 60}, {"EDT", -4 * 60}, {"CST", -6 * 60}, {"CDT", -5 * 60},
      {"MST", -7 * 60}, {"MDT", -6 * 60}, {"PST", -8 * 60}, {"PDT", -7 * 60},
  };
  for (const auto& [name, offset] : kNames) {
    if (iequals(s, name)) return offset;
  }
  // Military zones and unknown names carry no reliable offset: §4.3 says treat as -0000.
  return 0;
}

// Removes comments (nested, with quoted pairs) and splits at white space and commas;
// "1-Mar-2024" becomes three tokens.
std::vector<std::string_view> date_tokens(std::string_view text, std::string& storage) {
  storage.clear();
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (depth > 0 && c == '\\') {
      ++i;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && depth > 0) {
      --depth;
      storage += ' ';
    } else if (depth == 0) {
      storage += c;
    }
  }
  std::vector<std::string_view> tokens;
  std::string_view s = storage;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() &&
           (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n' || s[i] == ',')) {
      ++i;
    }
    size_t start = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n' &&
           s[i] != ',') {
      ++i;
    }
    if (i == start) continue;
    std::string_view token = s.substr(start, i - start);
    size_t d1 = token.find('-');
    size_t d2 = d1 == std::string_view::npos ? d1 : token.find('-', d1 + 1);
    if (d1 != std::string_view::npos && d1 > 0 && d2 != std::string_view::npos &&
        all_digits(token.substr(0, d1)) && month_number(token.substr(d1 + 1, d2 - d1 - 1))) {
      tokens.push_back(token.substr(0, d1));
      tokens.push_back(token.substr(d1 + 1, d2 - d1 - 1));
      tokens.push_back(token.substr(d2 + 1));
    } else {
      tokens.push_back(token);
    }
  }
  return tokens;
}

// RFC 5322 §4.3: two-digit years below 50 are 20xx, others 19xx; three digits add 1900.
std::optional<int> parse_year(std::string_view s) {
  if (!all_digits(s) || s.size() < 2 || s.size() > 4) return std::nullopt;
  int y = to_int(s);
  if (s.size() == 2) return y < 50 ? 2000 + y : 1900 + y;
  if (s.size() == 3) return 1900 + y;
  return y;
}

Result<ZonedTime> assemble(CivilDate date, TimeOfDay t, int offset) {
  if (date.month < 1 || date.month > 12) return bad_date("month");
  if (date.day < 1 || date.day > days_in_month(date.year, date.month)) return bad_date("day");
  int64_t seconds = days_from_civil(date) * kSecondsPerDay + t.hour * 3600 + t.minute * 60 +
                    t.second - int64_t(offset) * 60;
  return ZonedTime{seconds, offset};
}

std::string zone_text(int offset) {
  int a = std::abs(offset);
  return fmt::format("{}{:02}{:02}", offset < 0 ? '-' : '+', a / 60, a % 60);
}

struct Broken {
  CivilDate date;
  TimeOfDay time;
  int weekday = 0;  // 0 is Sunday
};

Broken broken_down(UnixTime time, int offset_minutes) {
  int64_t local = time + int64_t(offset_minutes) * 60;
  int64_t days = floor_div(local, kSecondsPerDay);
  auto secs = static_cast<int>(local - days * kSecondsPerDay);
  Broken b;
  b.date = civil_from_days(days);
  b.time = {secs / 3600, secs / 60 % 60, secs % 60};
  int64_t weekday = (days + 4) % 7;  // 1970-01-01 was a Thursday
  b.weekday = static_cast<int>(weekday < 0 ? weekday + 7 : weekday);
  return b;
}

}  // namespace

int64_t days_from_civil(CivilDate date) {
  // Howard Hinnant's days_from_civil.
  int64_t y = date.year - (date.month <= 2 ? 1 : 0);
  int64_t era = floor_div(y, 400);
  int64_t yoe = y - era * 400;
  int64_t mp = date.month > 2 ? date.month - 3 : date.month + 9;
  int64_t doy = (153 * mp + 2) / 5 + date.day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate civil_from_days(int64_t days) {
  int64_t z = days + 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  auto day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  auto month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  auto year = static_cast<int>(yoe + era * 400 + (month <= 2 ? 1 : 0));
  return {year, month, day};
}

CivilDate civil_date(UnixTime time, int offset_minutes) {
  return broken_down(time, offset_minutes).date;
}

std::string format_rfc5322_date(UnixTime time, int offset_minutes) {
  Broken b = broken_down(time, offset_minutes);
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} {}", kDays[b.weekday], b.date.day,
                     kMonths[b.date.month - 1], b.date.year, b.time.hour, b.time.minute,
                     b.time.second, zone_text(offset_minutes));
}

Result<ZonedTime> parse_rfc5322_date(std::string_view text) {
  std::string storage;
  std::vector<std::string_view> tokens = date_tokens(text, storage);
  size_t i = 0;
  auto at = [&](size_t k) { return i + k < tokens.size() ? tokens[i + k] : std::string_view(); };
  if (is_day_name(at(0))) ++i;

  CivilDate date;
  std::optional<TimeOfDay> time;
  std::optional<int> year;
  if (all_digits(at(0)) && at(0).size() <= 2 && month_number(at(1))) {
    // day month year time
    date.day = to_int(at(0));
    date.month = month_number(at(1));
    year = parse_year(at(2));
    time = parse_time(at(3));
    i += 4;
  } else if (month_number(at(0)) && all_digits(at(1)) && at(1).size() <= 2) {
    date.month = month_number(at(0));
    date.day = to_int(at(1));
    if (parse_time(at(2))) {
      // asctime(): month day time year
      time = parse_time(at(2));
      year = parse_year(at(3));
    } else {
      year = parse_year(at(2));
      time = parse_time(at(3));
    }
    i += 4;
  } else {
    return bad_date("no day and month");
  }
  if (!year) return bad_date("year");
  if (!time) return bad_date("time");
  date.year = *year;
  int offset = 0;
  if (i < tokens.size()) {
    if (auto zone = parse_zone(tokens[i])) offset = *zone;
  }
  return assemble(date, *time, offset);
}

std::string format_imap_date_time(UnixTime time, int offset_minutes) {
  Broken b = broken_down(time, offset_minutes);
  return fmt::format("{:02}-{}-{:04} {:02}:{:02}:{:02} {}", b.date.day, kMonths[b.date.month - 1],
                     b.date.year, b.time.hour, b.time.minute, b.time.second,
                     zone_text(offset_minutes));
}

Result<ZonedTime> parse_imap_date_time(std::string_view text) {
  // RFC 9051 §9: date-day-fixed "-" date-month "-" date-year SP time SP zone
  if (!text.empty() && text[0] == ' ') text.remove_prefix(1);
  size_t space = text.find(' ');
  if (space == std::string_view::npos) return bad_date("no time");
  auto date = parse_imap_date(text.substr(0, space));
  if (!date) return Unexpected{date.error()};
  std::string_view rest = text.substr(space + 1);
  if (rest.size() != 14 || rest[8] != ' ') return bad_date("time and zone");
  std::string_view clock = rest.substr(0, 8);
  auto time = parse_time(clock);
  if (!time || clock[2] != ':' || clock[5] != ':') return bad_date("time");
  std::string_view zone = rest.substr(9);
  if (zone[0] != '+' && zone[0] != '-') return bad_date("zone");
  auto offset = parse_zone(zone);
  if (!offset) return bad_date("zone");
  return assemble(*date, *time, *offset);
}

std::string format_imap_date(CivilDate date) {
  return fmt::format("{}-{}-{:04}", date.day, kMonths[date.month - 1], date.year);
}

Result<CivilDate> parse_imap_date(std::string_view text) {
  // RFC 9051 §9: date-day "-" date-month "-" date-year, date-day = 1*2DIGIT, date-year = 4DIGIT
  size_t d1 = text.find('-');
  if (d1 == std::string_view::npos || d1 < 1 || d1 > 2) return bad_date("day");
  std::string_view day = text.substr(0, d1);
  std::string_view month = text.substr(d1 + 1, 3);
  if (text.size() != d1 + 9 || text[d1 + 4] != '-') return bad_date("layout");
  std::string_view year = text.substr(d1 + 5);
  if (!all_digits(day) || !all_digits(year)) return bad_date("digits");
  int m = month.size() == 3 ? month_number(month) : 0;
  if (m == 0) return bad_date("month");
  CivilDate date{to_int(year), m, to_int(day)};
  if (date.day < 1 || date.day > days_in_month(date.year, date.month)) return bad_date("day");
  return date;
}

}  // namespace chapar::text
