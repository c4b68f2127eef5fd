// SPDX-License-Identifier: AGPL-3.0-or-later
// Brings the store's change announcements (from every process: chapar-smtpd delivering,
// other IMAP and POP3 sessions) to the sessions of this daemon: the listener's socket is
// watched with uv_poll, and each announced mailbox is told to the MailboxWatch. A timer
// tells every watched mailbox now and then, in case an announcement was lost.
#pragma once

#include <uv.h>

#include <chrono>
#include <memory>

#include "common/result.hpp"
#include "imapd/mailbox_watch.hpp"
#include "libmailstore/store.hpp"

namespace chapar::imap {

class ChangeFeed {
  struct Key {};

 public:
  explicit ChangeFeed(Key);
  // `listener` and `watch` must outlive the feed's handles, that is until stop() has run
  // and the loop has turned once more.
  static Result<std::unique_ptr<ChangeFeed>> start(uv_loop_t* loop,
                                                   store::Store::ChangeListener& listener,
                                                   MailboxWatch& watch,
                                                   std::chrono::milliseconds recheck);
  ~ChangeFeed();
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // Closes the handles (they are freed in their close callbacks).
  void stop();

  struct Handles;

 private:
  std::unique_ptr<Handles> handles_;
};

}  // namespace chapar::imap
