// SPDX-License-Identifier: AGPL-3.0-or-later
#include "smtpd/outbound/schedule.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/text/ascii.hpp"

namespace chapar::smtp::outbound {
namespace {

// The human form kept in the queue for `chaparctl queue show`.
std::string describe(const AttemptResult& attempt) {
  if (attempt.result.remote && !attempt.remote_mta.empty()) {
    return fmt::format("host {} said: {}", attempt.remote_mta, attempt.result.reply);
  }
  return attempt.result.reply;
}

DsnRecipient report_line(const store::QueueRecipient& recipient, const AttemptResult& attempt,
                         DsnAction action) {
  DsnRecipient out;
  out.address = recipient.address;
  out.orcpt = recipient.orcpt;
  out.action = action;
  out.status = attempt.result.status;
  out.reply = attempt.result.reply;
  out.remote = attempt.result.remote;
  out.remote_mta = attempt.remote_mta;
  return out;
}

}  // namespace

bool notify_wants(std::string_view notify, std::string_view kind) {
  if (notify.empty()) return !text::iequals(kind, "SUCCESS");
  while (!notify.empty()) {
    size_t comma = notify.find(',');
    std::string_view word = notify.substr(0, comma);
    if (text::iequals(word, kind)) return true;
    notify = comma == std::string_view::npos ? std::string_view() : notify.substr(comma + 1);
  }
  return false;
}

Decision decide(const store::QueueEntry& entry,
                const std::vector<std::optional<AttemptResult>>& results,
                const config::Outbound& config, int64_t now) {
  Decision decision;
  decision.entry = entry;
  store::QueueEntry& out = decision.entry;
  out.attempts = entry.attempts + 1;
  const int64_t deadline = entry.created + config.give_up_after.count();
  const bool give_up = now >= deadline;
  const bool warn = now >= entry.created + config.warn_after.count();
  const bool may_report = !entry.sender.empty();
  decision.retry_until = deadline;

  for (size_t i = 0; i < out.recipients.size() && i < results.size(); ++i) {
    store::QueueRecipientStatus& r = out.recipients[i];
    if (r.state != store::RecipientState::kPending || !results[i]) continue;
    const AttemptResult& attempt = *results[i];
    const std::string& notify = r.recipient.notify;
    switch (attempt.result.outcome) {
      case Outcome::kDelivered:
        r.state = store::RecipientState::kDelivered;
        r.last_error.clear();
        if (may_report && notify_wants(notify, "SUCCESS") && !attempt.dsn_passed_on) {
          DsnRecipient line = report_line(r.recipient, attempt, DsnAction::kRelayed);
          line.status = "2.0.0";
          decision.relayed.push_back(std::move(line));
        }
        break;
      case Outcome::kPermanent:
        r.state = store::RecipientState::kFailed;
        r.last_error = describe(attempt);
        if (may_report && notify_wants(notify, "FAILURE")) {
          decision.failed.push_back(report_line(r.recipient, attempt, DsnAction::kFailed));
        }
        break;
      case Outcome::kTemporary:
        r.last_error = describe(attempt);
        if (give_up) {
          r.state = store::RecipientState::kFailed;
          r.last_error = fmt::format("gave up after {} attempts: {}", out.attempts, r.last_error);
          if (may_report && notify_wants(notify, "FAILURE")) {
            DsnRecipient line = report_line(r.recipient, attempt, DsnAction::kFailed);
            line.reply = attempt.result.remote
                             ? attempt.result.reply
                             : fmt::format("delivery time expired: {}", attempt.result.reply);
            decision.failed.push_back(std::move(line));
          }
        } else if (warn && !r.delay_warned) {
          r.delay_warned = true;
          if (may_report && notify_wants(notify, "DELAY")) {
            decision.delayed.push_back(report_line(r.recipient, attempt, DsnAction::kDelayed));
          }
        }
        break;
    }
  }

  decision.finished = std::none_of(out.recipients.begin(), out.recipients.end(), [](const auto& r) {
    return r.state == store::RecipientState::kPending;
  });
  if (!decision.finished) {
    int64_t delay = 300;
    if (!config.retry_delays.empty()) {
      size_t step = std::min<size_t>(out.attempts, config.retry_delays.size()) - 1;
      delay = std::max<int64_t>(1, config.retry_delays[step].count());
    }
    // The last try falls on the deadline, so that giving up is not later than promised.
    out.next_attempt = std::min(now + delay, std::max(deadline, now + 1));
  }
  return decision;
}

}  // namespace chapar::smtp::outbound
