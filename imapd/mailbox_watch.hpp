// SPDX-License-Identifier: AGPL-3.0-or-later
// Which sessions look at which mailbox, so that a change can be told to exactly those.
// The daemon feeds it from the store's change listener (changes made by any process); a
// session feeds it after its own writes so that the other sessions of this process learn
// of them at once. A notification only says "look again": each session asks the store for
// what changed since the MODSEQ it has reported, so duplicates and losses cost nothing.
// Loop thread only.
#pragma once

#include <map>
#include <vector>

#include "libmailstore/types.hpp"

namespace chapar::imap {

class MailboxWatch {
 public:
  class Watcher {
   public:
    virtual void on_mailbox_changed(store::MailboxId mailbox) = 0;

   protected:
    ~Watcher() = default;
  };

  void add(store::MailboxId mailbox, Watcher* watcher);
  void remove(store::MailboxId mailbox, Watcher* watcher);
  // Tells every watcher of `mailbox`. Watchers may add or remove themselves meanwhile.
  void notify(store::MailboxId mailbox);
  // Tells every watcher of every mailbox (the periodic re-check for lost announcements).
  void notify_all();
  size_t watchers(store::MailboxId mailbox) const;

 private:
  std::map<store::MailboxId, std::vector<Watcher*>> watchers_;
};

}  // namespace chapar::imap
