// SPDX-License-Identifier: AGPL-3.0-or-later
// COPY (RFC 9051 §6.4.7) and MOVE (RFC 6851) with COPYUID (RFC 4315 §3).
#include <fmt/format.h>

#include "imapd/response.hpp"
#include "imapd/session.hpp"

namespace chapar::imap {

void Session::cmd_copy(Command& command) {
  copy_or_move(command, false);
}

void Session::cmd_move(Command& command) {
  copy_or_move(command, true);
}

void Session::copy_or_move(Command& command, bool move) {
  std::optional<SequenceSet> set;
  if (command.args.size() != 2 || !command.args[0].is_atom() ||
      !(set = parse_sequence_set(command.args[0].value))) {
    return finish_bad(move ? "MOVE takes a message set and a mailbox."
                           : "COPY takes a message set and a mailbox.");
  }
  auto seqs = view_->resolve(*set, uid_command());
  if (!seqs) return finish_bad("Invalid message sequence number.");
  std::optional<std::string> name = mailbox_name(command.args[1]);
  if (!name) return;
  const char* action = move ? "move" : "copy";
  auto target = services_.store.find_mailbox(account_->id, *name);
  if (!target) return finish_store_error(target.error(), action);
  std::vector<store::Uid> uids;
  for (uint32_t seq : *seqs) uids.push_back(view_->uid(seq));
  if (uids.empty()) return finish_ok(move ? "Move completed." : "Copy completed.");

  const store::MailboxId source = view_->id();
  const store::MailboxId dest = target->id;
  auto done = on_loop<store::CopyResult>([this, source, dest, move, action](auto result) {
    if (!result) return finish_store_error(result.error(), action);
    services_.watch.notify(dest);
    // RFC 4315 §3: the UIDs in the target, in the order of the source UIDs.
    std::string copyuid = result->source_uids.empty()
                              ? std::string()
                              : fmt::format("COPYUID {} {} {}", result->uidvalidity,
                                            format_sequence_set(result->source_uids),
                                            format_sequence_set(result->dest_uids));
    if (!move) return finish("OK", copyuid, "Copy completed.");
    services_.watch.notify(source);
    // RFC 6851 §4.3: COPYUID goes in an untagged OK before the expunges.
    if (!copyuid.empty()) untagged(fmt::format("OK [{}] Moved UIDs.", copyuid));
    if (view_ && view_->id() == source) announce_expunged(result->source_uids);
    finish_ok("Move completed.");
  });
  if (move) {
    services_.store.move(source, std::move(uids), dest, std::move(done));
  } else {
    services_.store.copy(source, std::move(uids), dest, std::move(done));
  }
}

}  // namespace chapar::imap
