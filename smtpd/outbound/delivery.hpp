// SPDX-License-Identifier: AGPL-3.0-or-later
// One attempt to hand a message to one destination (a domain, or the smarthost) for the
// recipients there: find the hosts (route.hpp), then try their addresses in order, each
// with one SMTP session, until every recipient has a final answer or the hosts run out.
// A recipient that got a temporary answer (or none: connection failures) moves on to the
// next host (RFC 5321 §5.1); a TLS handshake that fails under opportunistic TLS without
// certificate checks is retried once in plaintext, as Postfix does.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/dns/resolver.hpp"
#include "common/log.hpp"
#include "smtpd/outbound/client_session.hpp"
#include "smtpd/outbound/route.hpp"
#include "smtpd/outbound/schedule.hpp"
#include "smtpd/outbound/transport.hpp"

namespace chapar::tls {
class Context;
}

namespace chapar::smtp::outbound {

struct Smarthost {
  std::string host;
  uint16_t port = 25;
  TlsPolicy tls = TlsPolicy::kRequired;
  bool implicit_tls = false;
  std::optional<auth::Credentials> credentials;
};

// What every delivery shares; owned by the queue runner.
struct DeliveryServices {
  uv_loop_t* loop = nullptr;
  dns::Resolver* resolver = nullptr;
  const tls::Context* tls = nullptr;  // client context
  log::Logger logger;
  std::string helo_name;
  std::optional<Smarthost> smarthost;
  uint16_t mx_port = 25;
  bool verify_certificates = false;
  size_t max_connections = 5;  // addresses tried per destination and attempt
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(30)};
  ClientTimeouts timeouts;
  std::mt19937 random{std::random_device{}()};
};

class Delivery {
 public:
  // One slot per envelope recipient, in order.
  using Done = std::function<void(std::vector<AttemptResult>)>;

  Delivery(DeliveryServices& services, std::string destination, Envelope envelope,
           std::function<MessageSource()> message, Done done);
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;

  void start();
  // Stops at once (shutdown): the open connection is closed; `done` follows from the loop
  // unless the resolver has been destroyed with a query pending.
  void abort();

  const std::string& destination() const { return destination_; }

 private:
  void routed(Route route);
  void next_host();
  void resolved(const std::string& host, Result<std::vector<std::string>> addresses);
  void try_address(bool plaintext);
  void session_done(SessionResult result, bool plaintext);
  void finish();
  std::vector<size_t> open_recipients() const;

  DeliveryServices& services_;
  std::string destination_;
  Envelope envelope_;
  std::function<MessageSource()> message_;
  Done done_;
  std::vector<std::optional<AttemptResult>> results_;
  std::vector<bool> final_;
  std::vector<std::string> hosts_;
  bool implicit_mx_ = false;
  size_t next_host_ = 0;
  std::string host_;
  std::vector<std::string> addresses_;
  size_t next_address_ = 0;
  size_t connections_ = 0;
  std::string last_error_;
  Transport* transport_ = nullptr;
  bool aborted_ = false;
};

}  // namespace chapar::smtp::outbound
