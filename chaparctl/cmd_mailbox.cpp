// SPDX-License-Identifier: AGPL-3.0-or-later
// chaparctl mailbox list, chaparctl stats.
#include <fmt/format.h>

#include "chaparctl/handlers.hpp"
#include "chaparctl/lookup.hpp"

namespace chapar::ctl {
Status cmd_mailbox_list(Context& ctx) {
  auto account = existing_account(*ctx.store, ctx.operand(0));
  if (!account) return fail(account.error().code, account.error().message);
  auto mailboxes = ctx.store->list_mailboxes(account->id);
  if (!mailboxes) return fail(mailboxes.error().code, mailboxes.error().message);
  ctx.io.out << fmt::format("{:<24} {:>8} {:>8} {:>12}  {}\n", "MAILBOX", "MESSAGES", "UNSEEN",
                            "BYTES", "SPECIAL-USE");
  for (const store::Mailbox& mailbox : *mailboxes) {
    auto counts = ctx.store->counts(mailbox.id);
    if (!counts) return fail(counts.error().code, counts.error().message);
    std::string line =
        fmt::format("{:<24} {:>8} {:>8} {:>12}  {}", mailbox.name, counts->messages, counts->unseen,
                    counts->size, store::special_use_attribute(mailbox.special_use));
    while (line.back() == ' ') line.pop_back();
    ctx.io.out << line << '\n';
  }
  return {};
}

Status cmd_stats(Context& ctx) {
  auto stats = ctx.store->stats();
  if (!stats) return fail(stats.error().code, stats.error().message);
  std::ostream& out = ctx.io.out;
  out << "domains:   " << stats->domains << '\n';
  out << "accounts:  " << stats->accounts << '\n';
  out << "mailboxes: " << stats->mailboxes << '\n';
  out << "messages:  " << stats->messages << '\n';
  out << "bytes:     " << stats->bytes << '\n';
  out << "queued:    " << stats->queued << '\n';
  return {};
}

}  // namespace chapar::ctl
