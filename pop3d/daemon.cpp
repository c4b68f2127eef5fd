// SPDX-License-Identifier: AGPL-3.0-or-later
#include "pop3d/daemon.hpp"

#include <memory>

#include "common/auth/throttle.hpp"
#include "libmailstore/store.hpp"
#include "pop3d/session.hpp"

namespace chapar::pop3 {
namespace {

// What the sessions share; lives as long as the factory that captures it.
struct Shared {
  std::unique_ptr<store::Store> store;
  std::unique_ptr<auth::LoginThrottle> throttle;
};

Result<net::SessionFactory> setup(DaemonContext& context) {
  const config::Config& config = context.config;
  auto store = store::Store::open(store::StoreOptions{config.store.data_dir, false});
  if (!store) return Unexpected{store.error()};
  auto throttle = auth::LoginThrottle::open(config.store.data_dir, config.auth);
  if (!throttle) return Unexpected{throttle.error()};
  auto shared = std::make_shared<Shared>(Shared{std::move(*store), std::move(*throttle)});
  return net::SessionFactory([shared, &config](net::SessionHost& host) {
    return std::make_unique<Session>(host, Services{config, *shared->store, *shared->throttle});
  });
}

}  // namespace

DaemonSpec daemon_spec() {
  DaemonSpec spec;
  spec.name = "chapar-pop3d";
  spec.listeners = [](const config::Config& config) -> const std::vector<config::Listener>& {
    return config.pop3d.listeners;
  };
  spec.limits = [](const config::Config& config) -> const config::ConnectionLimits& {
    return config.pop3d.connections;
  };
  spec.setup = setup;
  return spec;
}

}  // namespace chapar::pop3
