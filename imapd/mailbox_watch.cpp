// SPDX-License-Identifier: AGPL-3.0-or-later
#include "imapd/mailbox_watch.hpp"

#include <algorithm>

namespace chapar::imap {

void MailboxWatch::add(store::MailboxId mailbox, Watcher* watcher) {
  watchers_[mailbox].push_back(watcher);
}

void MailboxWatch::remove(store::MailboxId mailbox, Watcher* watcher) {
  auto it = watchers_.find(mailbox);
  if (it == watchers_.end()) return;
  std::erase(it->second, watcher);
  if (it->second.empty()) watchers_.erase(it);
}

void MailboxWatch::notify(store::MailboxId mailbox, store::ModSeq modseq) {
  auto it = watchers_.find(mailbox);
  if (it == watchers_.end()) return;
  // A copy: a watcher may change the registry while it is told.
  std::vector<Watcher*> targets = it->second;
  for (Watcher* w : targets) {
    auto now = watchers_.find(mailbox);
    if (now != watchers_.end() &&
        std::find(now->second.begin(), now->second.end(), w) != now->second.end()) {
      w->on_mailbox_changed(mailbox, modseq);
    }
  }
}

void MailboxWatch::notify_all() {
  std::vector<store::MailboxId> mailboxes;
  for (const auto& [mailbox, list] : watchers_) mailboxes.push_back(mailbox);
  for (store::MailboxId mailbox : mailboxes) notify(mailbox);
}

size_t MailboxWatch::watchers(store::MailboxId mailbox) const {
  auto it = watchers_.find(mailbox);
  return it == watchers_.end() ? 0 : it->second.size();
}

}  // namespace chapar::imap
