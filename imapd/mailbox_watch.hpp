// SPDX-License-Identifier: AGPL-3.0-or-later
// Which sessions look at which mailbox, so that a change can be told to exactly those.
// The daemon feeds it from the store's change listener (changes made by any process); a
// session feeds it after its own writes so that the other sessions of this process learn
// of them at once. A notification only says "look again": each session asks the store for
// what changed since the MODSEQ it has reported, so duplicates and losses cost nothing.
// A notification that names the mailbox's MODSEQ after the change lets a session that has
// already seen that much skip the look. Loop thread only.
#pragma once

#include <limits>
#include <map>
#include <vector>

#include "libmailstore/types.hpp"

namespace chapar::imap {

class MailboxWatch {
 public:
  // What a notification says when it does not know the MODSEQ of the change.
  static constexpr store::ModSeq kUnknownModSeq = std::numeric_limits<store::ModSeq>::max();

  class Watcher {
   public:
    // `modseq`: the mailbox's HIGHESTMODSEQ after the change, or kUnknownModSeq.
    virtual void on_mailbox_changed(store::MailboxId mailbox, store::ModSeq modseq) = 0;

   protected:
    ~Watcher() = default;
  };

  void add(store::MailboxId mailbox, Watcher* watcher);
  void remove(store::MailboxId mailbox, Watcher* watcher);
  // Tells every watcher of `mailbox`. Watchers may add or remove themselves meanwhile.
  void notify(store::MailboxId mailbox, store::ModSeq modseq = kUnknownModSeq);
  // Tells every watcher of every mailbox (the periodic re-check for lost announcements).
  void notify_all();
  size_t watchers(store::MailboxId mailbox) const;

 private:
  std::map<store::MailboxId, std::vector<Watcher*>> watchers_;
};

}  // namespace chapar::imap
