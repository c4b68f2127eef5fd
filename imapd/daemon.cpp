// SPDX-License-Identifier: AGPL-3.0-or-later
#include "imapd/daemon.hpp"

#include <memory>

#include "common/auth/throttle.hpp"
#include "imapd/change_feed.hpp"
#include "imapd/mailbox_watch.hpp"
#include "imapd/message_cache.hpp"
#include "imapd/session.hpp"
#include "libmailstore/store.hpp"

namespace chapar::imap {
namespace {

// How often every selected mailbox is looked at again, in case an announcement was lost
// (DESIGN.md "Changes across processes").
constexpr std::chrono::seconds kRecheck{30};

// What every session shares; it lives as long as the session factory.
struct Shared {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<auth::LoginThrottle> throttle;
  std::unique_ptr<store::Store::ChangeListener> listener;
  MailboxWatch watch;
  std::unique_ptr<ChangeFeed> feed;
  std::unique_ptr<MessageCache> cache;
};

Result<net::SessionFactory> setup(DaemonContext& context) {
  const config::Config& config = context.config;
  auto shared = std::make_shared<Shared>();
  auto store = store::Store::open(store::StoreOptions{config.store.data_dir});
  if (!store) return Unexpected{store.error()};
  shared->store = std::move(*store);
  auto throttle = auth::LoginThrottle::open(config.store.data_dir, config.auth);
  if (!throttle) return Unexpected{throttle.error()};
  shared->throttle = std::move(*throttle);
  auto listener = shared->store->listen_for_changes();
  if (!listener) return Unexpected{listener.error()};
  shared->listener = std::move(*listener);
  auto feed = ChangeFeed::start(context.loop, *shared->listener, shared->watch, kRecheck);
  if (!feed) return Unexpected{feed.error()};
  shared->feed = std::move(*feed);
  if (config.imapd.message_cache_size > 0) {
    shared->cache = std::make_unique<MessageCache>(config.imapd.message_cache_size);
  }
  context.on_shutdown([shared] { shared->feed->stop(); });
  return net::SessionFactory([shared, &config](net::SessionHost& host) {
    return std::make_unique<Session>(host, Services{config, *shared->store, *shared->throttle,
                                                    shared->watch, shared->cache.get()});
  });
}

}  // namespace

DaemonSpec daemon_spec() {
  DaemonSpec spec;
  spec.name = "chapar-imapd";
  spec.listeners = [](const config::Config& c) -> const std::vector<config::Listener>& {
    return c.imapd.listeners;
  };
  spec.limits = [](const config::Config& c) -> const config::ConnectionLimits& {
    return c.imapd.connections;
  };
  spec.setup = setup;
  return spec;
}

}  // namespace chapar::imap
