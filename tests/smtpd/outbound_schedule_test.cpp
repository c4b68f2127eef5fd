// SPDX-License-Identifier: AGPL-3.0-or-later
// What an attempt means for a queue entry: states, retry times, give-up, delay warnings and
// which notifications NOTIFY asks for.
#include "smtpd/outbound/schedule.hpp"

#include <doctest/doctest.h>

namespace chapar::smtp::outbound::test {
namespace {

constexpr int64_t kCreated = 1'000'000;

config::Outbound outbound() {
  config::Outbound o;
  o.retry_delays = {std::chrono::seconds(60), std::chrono::seconds(600)};
  o.warn_after = std::chrono::seconds(3600);
  o.give_up_after = std::chrono::seconds(7200);
  return o;
}

store::QueueEntry entry(std::vector<std::string> notify, std::string sender = "alice@example.org") {
  store::QueueEntry e;
  e.id = 7;
  e.message = 3;
  e.sender = std::move(sender);
  e.created = kCreated;
  e.next_attempt = kCreated;
  for (size_t i = 0; i < notify.size(); ++i) {
    store::QueueRecipientStatus r;
    r.recipient.address = "r" + std::to_string(i) + "@example.net";
    r.recipient.notify = notify[i];
    e.recipients.push_back(r);
  }
  return e;
}

AttemptResult delivered() {
  return AttemptResult{RecipientResult{Outcome::kDelivered, "250 2.0.0 ok", "2.0.0", true},
                       "mx.example.net", false};
}
AttemptResult temporary() {
  return AttemptResult{RecipientResult{Outcome::kTemporary, "451 4.3.0 later", "4.3.0", true},
                       "mx.example.net", false};
}
AttemptResult permanent() {
  return AttemptResult{RecipientResult{Outcome::kPermanent, "550 5.1.1 unknown", "5.1.1", true},
                       "mx.example.net", false};
}

}  // namespace

TEST_CASE("delivered and refused recipients are final; the refused one is reported") {
  store::QueueEntry e = entry({"", "", ""});
  Decision d = decide(e, {delivered(), permanent(), temporary()}, outbound(), kCreated + 10);
  CHECK(d.entry.attempts == 1);
  CHECK(d.entry.recipients[0].state == store::RecipientState::kDelivered);
  CHECK(d.entry.recipients[1].state == store::RecipientState::kFailed);
  CHECK(d.entry.recipients[1].last_error == "host mx.example.net said: 550 5.1.1 unknown");
  CHECK(d.entry.recipients[2].state == store::RecipientState::kPending);
  CHECK_FALSE(d.finished);
  REQUIRE(d.failed.size() == 1);
  CHECK(d.failed[0].address == "r1@example.net");
  CHECK(d.failed[0].status == "5.1.1");
  CHECK(d.failed[0].remote_mta == "mx.example.net");
  CHECK(d.delayed.empty());
  CHECK(d.relayed.empty());
  CHECK(d.entry.next_attempt == kCreated + 10 + 60);
}

TEST_CASE("retry delays grow and the last one repeats, never past the give-up time") {
  store::QueueEntry e = entry({""});
  Decision first = decide(e, {temporary()}, outbound(), kCreated);
  CHECK(first.entry.next_attempt == kCreated + 60);
  Decision second = decide(first.entry, {temporary()}, outbound(), kCreated + 60);
  CHECK(second.entry.attempts == 2);
  CHECK(second.entry.next_attempt == kCreated + 660);
  Decision third = decide(second.entry, {temporary()}, outbound(), kCreated + 660);
  CHECK(third.entry.next_attempt == kCreated + 1260);
  Decision late = decide(third.entry, {temporary()}, outbound(), kCreated + 7000);
  CHECK(late.entry.next_attempt == kCreated + 7200);
  CHECK(late.entry.recipients[0].state == store::RecipientState::kPending);
}

TEST_CASE("a delay is reported once after warn_after; at the give-up time a failure") {
  store::QueueEntry e = entry({""});
  Decision early = decide(e, {temporary()}, outbound(), kCreated + 100);
  CHECK(early.delayed.empty());
  Decision warned = decide(early.entry, {temporary()}, outbound(), kCreated + 3600);
  REQUIRE(warned.delayed.size() == 1);
  CHECK(warned.delayed[0].action == DsnAction::kDelayed);
  CHECK(warned.delayed[0].status == "4.3.0");
  CHECK(warned.retry_until == kCreated + 7200);
  CHECK(warned.entry.recipients[0].delay_warned);
  Decision again = decide(warned.entry, {temporary()}, outbound(), kCreated + 4000);
  CHECK(again.delayed.empty());
  Decision expired = decide(again.entry, {temporary()}, outbound(), kCreated + 7200);
  CHECK(expired.finished);
  CHECK(expired.entry.recipients[0].state == store::RecipientState::kFailed);
  CHECK(expired.entry.recipients[0].last_error.find("gave up after 4 attempts") == 0);
  REQUIRE(expired.failed.size() == 1);
  CHECK(expired.failed[0].reply == "451 4.3.0 later");
  CHECK(expired.failed[0].action == DsnAction::kFailed);
}

TEST_CASE("NOTIFY decides which reports go out; none for the null sender") {
  CHECK(notify_wants("", "FAILURE"));
  CHECK(notify_wants("", "DELAY"));
  CHECK_FALSE(notify_wants("", "SUCCESS"));
  CHECK(notify_wants("SUCCESS,failure", "FAILURE"));
  CHECK_FALSE(notify_wants("NEVER", "FAILURE"));
  CHECK_FALSE(notify_wants("SUCCESS", "DELAY"));

  store::QueueEntry e = entry({"NEVER", "SUCCESS", "SUCCESS", "FAILURE"});
  AttemptResult passed_on = delivered();
  passed_on.dsn_passed_on = true;
  Decision d =
      decide(e, {permanent(), delivered(), passed_on, permanent()}, outbound(), kCreated + 5000);
  CHECK(d.finished);
  REQUIRE(d.failed.size() == 1);
  CHECK(d.failed[0].address == "r3@example.net");
  // RFC 3461 §5.2.2.3: success is ours to report only when the next server did not take
  // the request along.
  REQUIRE(d.relayed.size() == 1);
  CHECK(d.relayed[0].address == "r1@example.net");
  CHECK(d.relayed[0].action == DsnAction::kRelayed);
  CHECK(d.relayed[0].status == "2.0.0");

  store::QueueEntry bounce = entry({"", ""}, "");
  Decision quiet = decide(bounce, {permanent(), temporary()}, outbound(), kCreated + 7200);
  CHECK(quiet.finished);
  CHECK(quiet.failed.empty());
  CHECK(quiet.delayed.empty());
}

TEST_CASE("recipients not tried this time keep their state") {
  store::QueueEntry e = entry({"", ""});
  e.recipients[0].state = store::RecipientState::kDelivered;
  Decision d = decide(e, {std::nullopt, delivered()}, outbound(), kCreated + 1);
  CHECK(d.finished);
  CHECK(d.entry.recipients[0].state == store::RecipientState::kDelivered);
  CHECK(d.failed.empty());
}

}  // namespace chapar::smtp::outbound::test
