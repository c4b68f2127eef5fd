// SPDX-License-Identifier: AGPL-3.0-or-later
// chapar-smtpd: receives mail (SMTP, submission) and delivers it into the store.
#include <memory>

#include "common/auth/throttle.hpp"
#include "common/daemon.hpp"
#include "libmailstore/store.hpp"
#include "smtpd/outbound/runner.hpp"
#include "smtpd/session.hpp"

namespace {

// What every session shares; it lives as long as the session factory.
struct Shared {
  std::unique_ptr<chapar::store::Store> store;
  std::unique_ptr<chapar::auth::LoginThrottle> throttle;
  std::shared_ptr<chapar::smtp::outbound::QueueRunner> queue;  // delivers the outbound queue
};

chapar::Result<chapar::net::SessionFactory> setup(chapar::DaemonContext& context) {
  using namespace chapar;
  const config::Config& config = context.config;
  auto store = store::Store::open(store::StoreOptions{config.store.data_dir});
  if (!store) return Unexpected{store.error()};
  auto throttle = auth::LoginThrottle::open(config.store.data_dir, config.auth);
  if (!throttle) return Unexpected{throttle.error()};
  auto shared = std::make_shared<Shared>(Shared{std::move(*store), std::move(*throttle), nullptr});
  auto queue = smtp::outbound::start_queue_runner(context, *shared->store);
  if (!queue) return Unexpected{queue.error()};
  shared->queue = std::move(*queue);
  return net::SessionFactory([shared, &config](net::SessionHost& host) {
    return std::make_unique<smtp::Session>(
        host, smtp::Services{config, *shared->store, *shared->throttle});
  });
}

}  // namespace

int main(int argc, char** argv) {
  chapar::DaemonSpec spec;
  spec.name = "chapar-smtpd";
  spec.listeners =
      [](const chapar::config::Config& config) -> const std::vector<chapar::config::Listener>& {
    return config.smtpd.listeners;
  };
  spec.limits =
      [](const chapar::config::Config& config) -> const chapar::config::ConnectionLimits& {
    return config.smtpd.connections;
  };
  spec.setup = setup;
  return chapar::run_daemon(argc, argv, spec);
}
