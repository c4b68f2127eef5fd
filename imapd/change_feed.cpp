// SPDX-License-Identifier: AGPL-3.0-or-later
#include "imapd/change_feed.hpp"

#include <string>

namespace chapar::imap {

struct ChangeFeed::Handles {
  uv_poll_t poll{};
  uv_timer_t timer{};
  int open = 0;
  store::Store::ChangeListener* listener = nullptr;
  MailboxWatch* watch = nullptr;
};

namespace {

using Handles = ChangeFeed::Handles;

void on_readable(uv_poll_t* poll, int status, int) {
  auto* h = static_cast<Handles*>(poll->data);
  if (status < 0) return;
  for (const auto& [mailbox, modseq] : h->listener->drain_changes()) {
    if (mailbox != store::kQueueChanges) h->watch->notify(mailbox, modseq);
  }
}

void on_timer(uv_timer_t* timer) {
  static_cast<Handles*>(timer->data)->watch->notify_all();
}

void on_close(uv_handle_t* handle) {
  auto* h = static_cast<Handles*>(handle->data);
  if (--h->open == 0) std::unique_ptr<Handles> free(h);
}

}  // namespace

Result<std::unique_ptr<ChangeFeed>> ChangeFeed::start(uv_loop_t* loop,
                                                      store::Store::ChangeListener& listener,
                                                      MailboxWatch& watch,
                                                      std::chrono::milliseconds recheck) {
  auto feed = std::make_unique<ChangeFeed>(Key{});
  feed->handles_ = std::make_unique<Handles>();
  Handles* h = feed->handles_.get();
  h->listener = &listener;
  h->watch = &watch;
  h->poll.data = h;
  h->timer.data = h;
  int rc = uv_poll_init(loop, &h->poll, listener.fd());
  if (rc < 0) return fail(Errc::kIo, std::string("uv_poll_init: ") + uv_strerror(rc));
  ++h->open;
  rc = uv_timer_init(loop, &h->timer);
  if (rc == 0) {
    ++h->open;
    rc = uv_poll_start(&h->poll, UV_READABLE, on_readable);
  }
  if (rc == 0) {
    auto ms = static_cast<uint64_t>(recheck.count());
    rc = uv_timer_start(&h->timer, on_timer, ms, ms);
  }
  if (rc < 0) {
    feed->stop();
    return fail(Errc::kIo, std::string("change feed: ") + uv_strerror(rc));
  }
  return feed;
}

void ChangeFeed::stop() {
  if (!handles_) return;
  Handles* h = handles_.release();
  const int open = h->open;
  if (open == 0) {
    std::unique_ptr<Handles> free(h);
    return;
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&h->poll), on_close);
  if (open == 2) uv_close(reinterpret_cast<uv_handle_t*>(&h->timer), on_close);
}

ChangeFeed::ChangeFeed(Key) {}

ChangeFeed::~ChangeFeed() {
  stop();
}

}  // namespace chapar::imap
