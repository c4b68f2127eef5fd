// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/text/date.hpp"

#include <doctest/doctest.h>

namespace chapar::text {
namespace {

constexpr UnixTime kMarch1Noon = 1709294400;  // 2024-03-01 12:00:00 UTC, a Friday

TEST_CASE("date: civil day numbers") {
  CHECK(days_from_civil({1970, 1, 1}) == 0);
  CHECK(days_from_civil({2000, 2, 29}) == 951782400 / 86400);
  CHECK(days_from_civil({1600, 3, 1}) == -135080);
  CHECK(civil_from_days(-1) == CivilDate{1969, 12, 31});
  for (int64_t d = -800000; d < 800000; d += 997) {
    CHECK(days_from_civil(civil_from_days(d)) == d);
  }
  CHECK(civil_date(kMarch1Noon) == CivilDate{2024, 3, 1});
  CHECK(civil_date(kMarch1Noon, 13 * 60) == CivilDate{2024, 3, 2});
  CHECK(civil_date(-1) == CivilDate{1969, 12, 31});
}

TEST_CASE("date: RFC 5322 formatting") {
  CHECK(format_rfc5322_date(kMarch1Noon) == "Fri, 01 Mar 2024 12:00:00 +0000");
  CHECK(format_rfc5322_date(kMarch1Noon, 90) == "Fri, 01 Mar 2024 13:30:00 +0130");
  CHECK(format_rfc5322_date(kMarch1Noon, -13 * 60) == "Thu, 29 Feb 2024 23:00:00 -1300");
  CHECK(format_rfc5322_date(-1) == "Wed, 31 Dec 1969 23:59:59 +0000");
  CHECK(format_rfc5322_date(0) == "Thu, 01 Jan 1970 00:00:00 +0000");
}

TEST_CASE("date: RFC 5322 parsing, strict and obsolete forms") {
  struct Case {
    std::string_view text;
    UnixTime time;
    int offset;
  };
  const Case cases[] = {
      {"Fri, 01 Mar 2024 12:00:00 +0000", kMarch1Noon, 0},
      {"Fri, 1 Mar 2024 13:30:00 +0130", kMarch1Noon, 90},
      {"1 Mar 2024 07:00:00 -0500", kMarch1Noon, -300},
      {"Fri, 01 Mar 2024 12:00 +0000", kMarch1Noon, 0},
      {"  Fri ,  01  mar  2024  12:00:00  +0000  ", kMarch1Noon, 0},
      {"Friday, 01 March 2024 12:00:00 GMT", kMarch1Noon, 0},
      {"Fri, 01 Mar 2024 04:00:00 PST", kMarch1Noon, -480},
      {"Fri, 01 Mar 2024 07:00:00 EST", kMarch1Noon, -300},
      {"Fri, 01 Mar 2024 06:00:00 MDT", kMarch1Noon, -360},
      {"Fri, 01 Mar 24 12:00:00 UT", kMarch1Noon, 0},
      {"Fri, 01 Mar 124 12:00:00 +0000", kMarch1Noon, 0},
      {"Fri, 01 Mar 2024 12:00:00 A", kMarch1Noon, 0},  // military: -0000
      {"Fri, 01 Mar 2024 12:00:00", kMarch1Noon, 0},    // no zone
      {"Fri, 01 Mar 2024 12:00:00 +0000 (UTC)", kMarch1Noon, 0},
      {"(sent) Fri, 01 Mar (a (nested) comment) 2024 12:00:00 +0000", kMarch1Noon, 0},
      {"Fri, 01-Mar-2024 12:00:00 GMT", kMarch1Noon, 0},
      {"Fri Mar  1 12:00:00 2024", kMarch1Noon, 0},
      {"Mar 1 2024 12:00:00 +0000", kMarch1Noon, 0},
      {"Fri, 01 Mar 2024 12:00:00 +01:00", kMarch1Noon - 3600, 60},
      {"Fri, 01 Mar 2024 12:00:60 +0000", kMarch1Noon + 59, 0},
      {"Thu, 1 Jan 70 00:00:00 +0000", 0, 0},
      {"Wed, 31 Dec 1969 23:59:59 -0000", -1, 0},
      {"Mon, 29 Feb 2000 00:00:00 +0000", 951782400, 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    auto r = parse_rfc5322_date(c.text);
    REQUIRE_MESSAGE(r.has_value(), r.error().message);
    CHECK(r->time == c.time);
    CHECK(r->offset_minutes == c.offset);
  }
}

TEST_CASE("date: RFC 5322 parsing rejects what is no date") {
  for (std::string_view bad :
       {"", "yesterday", "Fri, 01 Mar", "Fri, 01 Mar 2024", "Fri, 32 Mar 2024 12:00:00 +0000",
        "Fri, 29 Feb 2023 12:00:00 +0000", "Fri, 01 Foo 2024 12:00:00 +0000",
        "Fri, 01 Mar 2024 24:00:00 +0000", "Fri, 01 Mar 2024 12:60:00 +0000",
        "Fri, 01 Mar 2024 12:00:00:00 +0000", "Fri, 01 Mar 2024 1200 +0000",
        "Fri, 01 Mar 20245 12:00:00 +0000", "Fri, 0 Mar 2024 12:00:00 +0000"}) {
    CAPTURE(bad);
    auto r = parse_rfc5322_date(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == Errc::kInvalidArgument);
  }
}

TEST_CASE("date: formatting and parsing round-trip") {
  for (UnixTime t = -2000000000; t < 4000000000; t += 86399 * 37 + 17) {
    for (int offset : {0, 60, -300, 345, -720, 840}) {
      auto r = parse_rfc5322_date(format_rfc5322_date(t, offset));
      REQUIRE(r.has_value());
      CHECK(r->time == t);
      CHECK(r->offset_minutes == offset);
      auto i = parse_imap_date_time(format_imap_date_time(t, offset));
      REQUIRE(i.has_value());
      CHECK(i->time == t);
      CHECK(i->offset_minutes == offset);
    }
  }
}

TEST_CASE("date: IMAP date-time") {
  CHECK(format_imap_date_time(1577836800) == "01-Jan-2020 00:00:00 +0000");
  CHECK(format_imap_date_time(kMarch1Noon, -480) == "01-Mar-2024 04:00:00 -0800");
  for (std::string_view text :
       {"01-Mar-2024 04:00:00 -0800", " 1-Mar-2024 04:00:00 -0800", "1-MAR-2024 04:00:00 -0800"}) {
    CAPTURE(text);
    auto r = parse_imap_date_time(text);
    REQUIRE(r.has_value());
    CHECK(r->time == kMarch1Noon);
    CHECK(r->offset_minutes == -480);
  }
  for (std::string_view bad :
       {"", "01-Mar-2024", "01-Mar-2024 04:00 -0800", "01-Mar-2024 04:00:00",
        "01-Mar-2024 4:00:00 -0800", "01-Mar-2024 04:00:00 PST", "01-Mar-2024 04:00:00 -08000",
        "01-Mar-24 04:00:00 -0800", "001-Mar-2024 04:00:00 -0800", "30-Feb-2024 04:00:00 -0800",
        "01-Mar-2024 04:00:00 +0860"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_imap_date_time(bad).has_value());
  }
}

TEST_CASE("date: IMAP date") {
  CHECK(format_imap_date({1994, 2, 1}) == "1-Feb-1994");
  CHECK(format_imap_date({2024, 12, 31}) == "31-Dec-2024");
  auto d = parse_imap_date("1-Feb-1994");
  REQUIRE(d.has_value());
  CHECK(*d == CivilDate{1994, 2, 1});
  CHECK(days_from_civil(*d) * 86400 == 760060800);
  CHECK(*parse_imap_date("01-feb-1994") == CivilDate{1994, 2, 1});
  CHECK(*parse_imap_date("29-Feb-2000") == CivilDate{2000, 2, 29});
  for (std::string_view bad :
       {"", "1-Feb", "1-Feb-94", "1-February-1994", "1 Feb 1994", "0-Feb-1994", "29-Feb-1900",
        "123-Feb-1994", "1-Feb-1994x", "a-Feb-1994", "1-Feb-19x4"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_imap_date(bad).has_value());
  }
}

}  // namespace
}  // namespace chapar::text
