// SPDX-License-Identifier: AGPL-3.0-or-later
// Dates as mail and IMAP write them. Pure functions: no clock, no locale, no time zone
// database; a zone is an offset in minutes east of UTC, as the texts themselves carry it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace chapar::text {

using UnixTime = int64_t;  // seconds since the epoch, UTC

struct ZonedTime {
  UnixTime time = 0;       // the instant, UTC
  int offset_minutes = 0;  // the writer's zone: +0130 is 90, -0800 is -480
};

struct CivilDate {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  friend bool operator==(const CivilDate&, const CivilDate&) = default;
  friend auto operator<=>(const CivilDate&, const CivilDate&) = default;
};

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
int64_t days_from_civil(CivilDate date);
CivilDate civil_from_days(int64_t days);
// The calendar date of `time` seen in the zone `offset_minutes` east of UTC.
CivilDate civil_date(UnixTime time, int offset_minutes = 0);

// RFC 5322 §3.3: "Fri, 01 Mar 2024 12:00:00 +0000", in the given zone.
std::string format_rfc5322_date(UnixTime time, int offset_minutes = 0);

// Reads a Date: header value the way real mail writes it. Accepts the RFC 5322 §3.3 form
// with or without the day name and seconds, comments, the obsolete forms of §4.3 (two- and
// three-digit years, zone names such as GMT, EST or PDT; military zones count as +0000),
// "1-Mar-2024" dates and the asctime() order "Fri Mar  1 12:00:00 2024". A missing zone is
// +0000; text after the zone is ignored. Fails with kInvalidArgument when no date and time
// can be found or a field is out of range.
Result<ZonedTime> parse_rfc5322_date(std::string_view text);

// RFC 9051 date-time without the quotes: "01-Jan-2020 00:00:00 +0000".
std::string format_imap_date_time(UnixTime time, int offset_minutes = 0);
// Accepts a one- or two-digit day (with or without the leading space of date-day-fixed);
// month names ignore case.
Result<ZonedTime> parse_imap_date_time(std::string_view text);

// RFC 9051 date (SEARCH BEFORE, SINCE, ON, SENT*): "1-Feb-1994".
std::string format_imap_date(CivilDate date);
Result<CivilDate> parse_imap_date(std::string_view text);

}  // namespace chapar::text
