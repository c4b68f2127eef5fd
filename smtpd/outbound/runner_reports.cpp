// SPDX-License-Identifier: AGPL-3.0-or-later
// The queue runner's notifications (RFC 3464): composed on a worker thread, delivered into
// the sender's INBOX when the sender is local, else queued with the null sender so that a
// report is never reported on (RFC 3461 §6.2). Each is committed before the queue entry
// changes, so a crash can repeat a report but never lose one.
#include <fmt/format.h>

#include "common/text/token.hpp"
#include "smtpd/outbound/runner.hpp"

namespace chapar::smtp::outbound {

Result<store::PreparedMessage> QueueRunner::compose_report(
    const store::QueueEntry& entry, std::shared_ptr<const OutboundMessage> message,
    const std::vector<DsnRecipient>& lines, int64_t retry_until) {
  std::lock_guard lock(worker_mutex_);
  OutboundMessage original;
  if (message) {
    original = *message;
    original.prefix.clear();  // our own signatures are not part of what the sender sent
  } else {
    auto size = worker_store_->message_size(entry.message);
    if (!size) return Unexpected{size.error()};
    original.message = entry.message;
    original.length = *size;
  }
  MessageSource source = original.source(*worker_store_);

  const std::string& host = config_.server.hostname;
  DsnReport report;
  report.reporting_mta = host;
  report.sender = entry.sender;
  report.envid = entry.dsn.envid;
  report.arrival_date = entry.created;
  report.now = now();
  report.retry_until = retry_until;
  report.recipients = lines;
  report.boundary = fmt::format("=_{}", text::random_token());
  report.message_id = fmt::format("<{}@{}>", text::random_token(), host);
  // RFC 3461 §4.3: RET=FULL asks for the message, RET=HDRS for its header; without RET
  // small messages come back whole. Only failures carry the whole message.
  bool failure = lines.front().action == DsnAction::kFailed;
  uint64_t size = source.size;
  const config::Outbound& o = config_.smtpd.outbound;
  report.return_full = failure && ((entry.dsn.ret == "FULL" && size <= o.full_return_limit) ||
                                   (entry.dsn.ret.empty() && size <= o.default_return_limit));

  auto spool = std::make_shared<store::Spool>(worker_store_->temp_dir());
  if (Status s = spool->append("Return-Path: <>\r\n"); !s) return Unexpected{s.error()};
  if (Status s = compose_dsn(report, source, *spool); !s) return Unexpected{s.error()};
  if (Status s = spool->finish(); !s) return Unexpected{s.error()};
  return store::Store::prepare(spool);
}

void QueueRunner::send_next_report(store::QueueId id) {
  Job& job = *jobs_.at(id);
  if (job.reports.empty()) return record(id);
  auto lines = std::make_shared<std::vector<DsnRecipient>>(std::move(job.reports.front()));
  job.reports.erase(job.reports.begin());
  auto result = std::make_shared<std::optional<Result<store::PreparedMessage>>>();
  run_blocking(
      [this, result, entry = job.entry, message = job.message, lines,
       retry_until = job.decision->retry_until] {
        result->emplace(compose_report(entry, message, *lines, retry_until));
      },
      [this, id, result, lines] {
        Job& job = *jobs_.at(id);
        Result<store::PreparedMessage>& prepared = **result;
        if (!prepared) return report_sent(id, Unexpected{prepared.error()});
        store::Delivery delivery;
        delivery.message = std::move(*prepared);
        delivery.sender = "";  // RFC 3461 §6.2: reports go out with the null reverse-path
        delivery.internal_date = now();
        const std::string& to = job.entry.sender;
        auto recipient = store_.resolve_recipient(to);
        if (recipient && recipient->kind == store::Recipient::Kind::kLocal) {
          delivery.local.push_back(recipient->account);
        } else if (recipient && recipient->kind == store::Recipient::Kind::kUnknown) {
          // A sender in a local domain without an account (removed since): nowhere to go.
          return report_sent(
              id, fail(Errc::kNotFound, fmt::format("no account for the sender {} any more", to)));
        } else {
          delivery.remote.push_back(store::QueueRecipient{to, "NEVER", ""});
        }
        logger_.info("dsn", {{"queue", id},
                             {"to", to},
                             {"action", lines->front().action == DsnAction::kFailed    ? "failed"
                                        : lines->front().action == DsnAction::kDelayed ? "delayed"
                                                                                       : "relayed"},
                             {"recipients", lines->size()},
                             {"local", !delivery.local.empty()}});
        auto post = poster();
        store_.deliver(std::move(delivery), [this, post, id](Result<store::DeliveryReceipt> r) {
          Status status = r ? Status{} : Status{Unexpected{r.error()}};
          post([this, id, status] { report_sent(id, status); });
        });
      });
}

void QueueRunner::report_sent(store::QueueId id, Status status) {
  if (!status) {
    // The queue still moves on: a report that cannot be made must not hold the mail up.
    logger_.error("dsn_failed", {{"queue", id}, {"error", status.error().message}});
  }
  send_next_report(id);
}

}  // namespace chapar::smtp::outbound
