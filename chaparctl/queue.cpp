// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/queue.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "chaparctl/arguments.hpp"
#include "common/text/date.hpp"

namespace chapar::ctl {
namespace {

// "2026-11-22 10:00:00" in UTC.
std::string timestamp(int64_t time) {
  int64_t days = time >= 0 ? time / 86400 : (time - 86399) / 86400;
  int64_t seconds = time - days * 86400;
  text::CivilDate date = text::civil_from_days(days);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", date.year, date.month, date.day,
                     seconds / 3600, seconds / 60 % 60, seconds % 60);
}

std::string_view state_name(store::RecipientState state) {
  switch (state) {
    case store::RecipientState::kPending:
      return "pending";
    case store::RecipientState::kDelivered:
      return "delivered";
    case store::RecipientState::kFailed:
      return "failed";
  }
  return "pending";
}

Result<store::QueueId> queue_id(std::string_view text) {
  auto id = parse_number(text, 1, static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
  if (!id) return fail(Errc::kInvalidArgument, fmt::format("'{}' is not a queue id", text));
  return static_cast<store::QueueId>(*id);
}

}  // namespace

Status cmd_queue_list(Context& ctx) {
  auto entries = ctx.store->queue_entries();
  if (!entries) return Unexpected{entries.error()};
  if (entries->empty()) {
    ctx.io.out << "the queue is empty\n";
    return {};
  }
  for (const store::QueueEntry& entry : *entries) {
    std::string pending;
    size_t count = 0;
    for (const auto& r : entry.recipients) {
      if (r.state != store::RecipientState::kPending) continue;
      if (!pending.empty()) pending += ",";
      pending += r.recipient.address;
      ++count;
    }
    ctx.io.out << fmt::format("{}  queued {}  attempts {}  next {}  from <{}>  to {} ({} of {})\n",
                              entry.id, timestamp(entry.created), entry.attempts,
                              timestamp(entry.next_attempt), entry.sender, pending, count,
                              entry.recipients.size());
  }
  return {};
}

Status cmd_queue_show(Context& ctx) {
  auto id = queue_id(ctx.operand(0));
  if (!id) return Unexpected{id.error()};
  auto entry = ctx.store->queue_entry(*id);
  if (!entry) return Unexpected{entry.error()};
  auto size = ctx.store->message_size(entry->message);
  std::ostream& out = ctx.io.out;
  out << fmt::format("id:            {}\n", entry->id);
  out << fmt::format("sender:        <{}>\n", entry->sender);
  out << fmt::format("size:          {}\n", size ? fmt::format("{}", *size) : "unknown");
  out << fmt::format("queued:        {} UTC\n", timestamp(entry->created));
  out << fmt::format("attempts:      {}\n", entry->attempts);
  out << fmt::format("next attempt:  {} UTC\n", timestamp(entry->next_attempt));
  if (!entry->dsn.ret.empty()) out << fmt::format("ret:           {}\n", entry->dsn.ret);
  if (!entry->dsn.envid.empty()) out << fmt::format("envid:         {}\n", entry->dsn.envid);
  if (entry->dsn.requiretls) out << "requiretls:    yes\n";
  for (const auto& r : entry->recipients) {
    out << fmt::format("recipient:     {}  {}{}\n", r.recipient.address, state_name(r.state),
                       r.delay_warned ? "  (delay reported)" : "");
    if (!r.recipient.notify.empty()) out << fmt::format("  notify:      {}\n", r.recipient.notify);
    if (!r.recipient.orcpt.empty()) out << fmt::format("  orcpt:       {}\n", r.recipient.orcpt);
    if (!r.last_error.empty()) out << fmt::format("  last error:  {}\n", r.last_error);
  }
  return {};
}

Status cmd_queue_retry(Context& ctx) {
  std::optional<store::QueueId> id;
  if (ctx.operand(0) != "all") {
    auto parsed = queue_id(ctx.operand(0));
    if (!parsed) return Unexpected{parsed.error()};
    id = *parsed;
  }
  if (Status retried = ctx.store->retry_queue_entry_sync(id); !retried) return retried;
  ctx.io.out << (id ? fmt::format("queue entry {} will be tried now\n", *id)
                    : std::string("every queue entry will be tried now\n"));
  return {};
}

Status cmd_queue_delete(Context& ctx) {
  auto id = queue_id(ctx.operand(0));
  if (!id) return Unexpected{id.error()};
  if (Status removed = ctx.store->remove_queue_entry_sync(*id); !removed) return removed;
  ctx.io.out << fmt::format("deleted queue entry {}\n", *id);
  return {};
}

}  // namespace chapar::ctl
