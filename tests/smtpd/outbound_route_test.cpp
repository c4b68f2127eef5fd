// SPDX-License-Identifier: AGPL-3.0-or-later
// Where mail for a domain goes: MX order, shuffling of equal preferences, the implicit MX,
// null MX, lookups that fail, and MX lists that lead back to this host.
#include "smtpd/outbound/route.hpp"

#include <doctest/doctest.h>

#include <set>

namespace chapar::smtp::outbound::test {
namespace {

dns::MxAnswer answer(std::vector<std::pair<uint16_t, std::string>> records, bool null_mx = false) {
  dns::MxAnswer out;
  for (auto& [preference, host] : records) out.records.push_back(dns::MxRecord{preference, host});
  out.null_mx = null_mx;
  return out;
}

}  // namespace

TEST_CASE("MX hosts by preference; equal preferences in every order over time") {
  std::mt19937 random(1);
  std::set<std::vector<std::string>> seen;
  for (int i = 0; i < 200; ++i) {
    Route route = plan_route("example.net",
                             answer({{20, "c.example.net"},
                                     {10, "a.example.net."},
                                     {10, "b.example.net"},
                                     {30, "d.example.net"}}),
                             "mail.example.org", random);
    REQUIRE_FALSE(route.failure);
    REQUIRE(route.hosts.size() == 4);
    CHECK(route.hosts[2] == "c.example.net");
    CHECK(route.hosts[3] == "d.example.net");
    seen.insert(route.hosts);
  }
  // RFC 5321 §5.1: the two hosts at preference 10 take turns being first.
  CHECK(seen.size() == 2);
  CHECK(seen.count({"a.example.net", "b.example.net", "c.example.net", "d.example.net"}) == 1);
  CHECK(seen.count({"b.example.net", "a.example.net", "c.example.net", "d.example.net"}) == 1);
}

TEST_CASE("no MX records: the domain itself; a null MX: bounce at once") {
  std::mt19937 random(2);
  Route implicit = plan_route("example.net", answer({}), "mail.example.org", random);
  REQUIRE_FALSE(implicit.failure);
  CHECK(implicit.hosts == std::vector<std::string>{"example.net"});

  Route null = plan_route("example.net", answer({}, true), "mail.example.org", random);
  REQUIRE(null.failure);
  CHECK(null.failure->outcome == Outcome::kPermanent);
  CHECK(null.failure->status == "5.1.10");  // RFC 7505 §4.1
  CHECK(null.failure->reply.substr(0, 10) == "556 5.1.10");
  CHECK(null.hosts.empty());
}

TEST_CASE("a domain that does not exist bounces; a failed lookup is tried again later") {
  std::mt19937 random(3);
  Route missing = plan_route("nowhere.example", fail(Errc::kNotFound, "NXDOMAIN"), "", random);
  REQUIRE(missing.failure);
  CHECK(missing.failure->outcome == Outcome::kPermanent);
  CHECK(missing.failure->status == "5.1.2");

  Route broken = plan_route("example.net", fail(Errc::kUnavailable, "SERVFAIL"), "", random);
  REQUIRE(broken.failure);
  CHECK(broken.failure->outcome == Outcome::kTemporary);
  CHECK(broken.failure->status == "4.4.3");
  CHECK(broken.failure->reply.find("SERVFAIL") != std::string::npos);
}

TEST_CASE("an MX list that names this host stops before it") {
  std::mt19937 random(4);
  Route backup = plan_route(
      "example.net",
      answer({{10, "primary.example.net"}, {20, "Mail.Example.Org"}, {30, "tertiary.example.net"}}),
      "mail.example.org", random);
  REQUIRE_FALSE(backup.failure);
  CHECK(backup.hosts == std::vector<std::string>{"primary.example.net"});

  Route loop = plan_route("example.net", answer({{10, "mail.example.org"}, {20, "x.example.net"}}),
                          "mail.example.org", random);
  REQUIRE(loop.failure);
  CHECK(loop.failure->status == "5.4.6");
}

TEST_CASE("the destination of an address") {
  CHECK(address_domain("Bob@Example.NET") == "example.net");
  CHECK(address_domain("\"a@b\"@example.net") == "example.net");
  CHECK(address_domain("x@[192.0.2.1]") == "192.0.2.1");
  CHECK(address_domain("x@[IPv6:2001:db8::1]") == "2001:db8::1");
}

}  // namespace chapar::smtp::outbound::test
