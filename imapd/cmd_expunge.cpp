// SPDX-License-Identifier: AGPL-3.0-or-later
// CHECK (RFC 3501 §6.4.1), EXPUNGE (RFC 9051 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1).
#include "imapd/response.hpp"
#include "imapd/session.hpp"

namespace chapar::imap {

void Session::cmd_check(Command& command) {
  if (!command.args.empty()) return finish_bad("CHECK takes no arguments.");
  // Every change is durable when it is answered; CHECK is a NOOP here.
  sync(true, true);
  finish_ok("Check completed.");
}

void Session::cmd_expunge(Command& command) {
  std::vector<store::Uid> uids;
  if (uid_command()) {
    std::optional<SequenceSet> set;
    if (command.args.size() != 1 || !command.args[0].is_atom() ||
        !(set = parse_sequence_set(command.args[0].value))) {
      return finish_bad("UID EXPUNGE takes a UID set.");
    }
    std::optional<std::vector<uint32_t>> seqs = view_->resolve(*set, true);
    for (uint32_t seq : *seqs) uids.push_back(view_->uid(seq));
    if (uids.empty()) return finish_ok("Expunge completed.");
  } else if (!command.args.empty()) {
    return finish_bad("EXPUNGE takes no arguments.");
  }
  const store::MailboxId mailbox = view_->id();
  auto done = on_loop<std::vector<store::Uid>>([this, mailbox](auto result) {
    if (!result) return finish_store_error(result.error(), "expunge");
    if (view_ && view_->id() == mailbox) announce_expunged(*result);
    if (!result->empty()) services_.watch.notify(mailbox);
    finish_ok("Expunge completed.");
  });
  if (uid_command()) {
    services_.store.expunge_deleted(mailbox, std::move(uids), std::move(done));
  } else {
    services_.store.expunge(mailbox, {}, std::move(done));
  }
}

}  // namespace chapar::imap
