// SPDX-License-Identifier: AGPL-3.0-or-later
#include "smtpd/outbound/delivery.hpp"

#include <fmt/format.h>

#include <utility>

#include "smtpd/outbound/route.hpp"

namespace chapar::smtp::outbound {

Delivery::Delivery(DeliveryServices& services, std::string destination, Envelope envelope,
                   std::function<MessageSource()> message, Done done)
    : services_(services),
      destination_(std::move(destination)),
      envelope_(std::move(envelope)),
      message_(std::move(message)),
      done_(std::move(done)),
      results_(envelope_.recipients.size()),
      final_(envelope_.recipients.size(), false) {}

void Delivery::start() {
  if (services_.smarthost) {
    hosts_.push_back(services_.smarthost->host);
    return next_host();
  }
  services_.resolver->resolve_mx(destination_, [this](Result<dns::MxAnswer> answer) {
    implicit_mx_ = answer && !answer->null_mx && answer->records.empty();
    routed(plan_route(destination_, answer, services_.helo_name, services_.random));
  });
}

void Delivery::abort() {
  aborted_ = true;
  if (transport_ != nullptr) transport_->abort("the server is shutting down");
}

void Delivery::routed(Route route) {
  if (aborted_) return finish();
  if (route.failure) {
    for (size_t i = 0; i < results_.size(); ++i)
      results_[i] = AttemptResult{*route.failure, "", false};
    return finish();
  }
  hosts_ = std::move(route.hosts);
  next_host();
}

std::vector<size_t> Delivery::open_recipients() const {
  std::vector<size_t> open;
  for (size_t i = 0; i < final_.size(); ++i) {
    if (!final_[i]) open.push_back(i);
  }
  return open;
}

void Delivery::next_host() {
  if (aborted_ || open_recipients().empty() || next_host_ >= hosts_.size() ||
      connections_ >= services_.max_connections) {
    return finish();
  }
  host_ = hosts_[next_host_++];
  services_.resolver->resolve_addresses(
      host_, [this, host = host_](Result<std::vector<std::string>> addresses) {
        resolved(host, std::move(addresses));
      });
}

void Delivery::resolved(const std::string& host, Result<std::vector<std::string>> addresses) {
  if (aborted_) return finish();
  if (!addresses || addresses->empty()) {
    bool missing = addresses || addresses.error().code == Errc::kNotFound;
    // RFC 5321 §5.1: no MX records and no address either: the domain takes no mail.
    if (implicit_mx_ && missing) {
      RecipientResult none{
          Outcome::kPermanent,
          fmt::format("domain {} has no mail server (no MX and no address)", destination_), "5.1.2",
          false};
      for (size_t i : open_recipients()) results_[i] = AttemptResult{none, "", false};
      return finish();
    }
    last_error_ =
        fmt::format("cannot find the address of {}: {}", host,
                    addresses ? std::string("no address records") : addresses.error().message);
    return next_host();
  }
  addresses_ = std::move(*addresses);
  next_address_ = 0;
  try_address(false);
}

void Delivery::try_address(bool plaintext) {
  if (aborted_) return finish();
  if (!plaintext && next_address_ >= addresses_.size()) return next_host();
  if (connections_ >= services_.max_connections) return finish();
  const std::string& address =
      plaintext ? addresses_[next_address_ - 1] : addresses_[next_address_++];
  ++connections_;

  std::vector<size_t> open = open_recipients();
  Envelope envelope;
  envelope.sender = envelope_.sender;
  envelope.dsn = envelope_.dsn;
  for (size_t i : open) envelope.recipients.push_back(envelope_.recipients[i]);

  const auto& smarthost = services_.smarthost;
  ClientSettings settings;
  settings.helo_name = services_.helo_name;
  settings.timeouts = services_.timeouts;
  settings.tls = smarthost ? smarthost->tls : TlsPolicy::kOpportunistic;
  if (plaintext) settings.tls = TlsPolicy::kNone;
  settings.implicit_tls = smarthost && smarthost->implicit_tls && !plaintext;
  if (smarthost) settings.credentials = smarthost->credentials;

  TransportOptions options;
  options.address = address;
  options.port = smarthost ? smarthost->port : services_.mx_port;
  options.host_name = host_;
  options.connect_timeout = services_.connect_timeout;
  options.tls = services_.tls;
  options.implicit_tls = settings.implicit_tls;

  transport_ = Transport::start(
      services_.loop, std::move(options),
      ClientSession(std::move(settings), std::move(envelope), message_()), services_.logger,
      [this, open = std::move(open), plaintext, address](SessionResult result) {
        transport_ = nullptr;
        size_t delivered = 0, deferred = 0, failed = 0;
        for (size_t k = 0; k < open.size() && k < result.recipients.size(); ++k) {
          const RecipientResult& r = result.recipients[k];
          results_[open[k]] = AttemptResult{r, r.remote ? host_ : "", result.dsn_supported};
          if (r.outcome == Outcome::kDelivered) ++delivered;
          if (r.outcome == Outcome::kTemporary) ++deferred;
          if (r.outcome == Outcome::kPermanent) ++failed;
          if (r.outcome != Outcome::kTemporary) final_[open[k]] = true;
        }
        services_.logger.info("outbound_session", {{"host", host_},
                                                   {"address", address},
                                                   {"tls", result.tls},
                                                   {"delivered", delivered},
                                                   {"deferred", deferred},
                                                   {"failed", failed}});
        session_done(std::move(result), plaintext);
      });
}

void Delivery::session_done(SessionResult result, bool plaintext) {
  if (aborted_) return finish();
  bool opportunistic = !services_.smarthost && !services_.verify_certificates;
  if (result.tls_failed && !plaintext && opportunistic && !open_recipients().empty()) {
    return try_address(true);
  }
  try_address(false);
}

void Delivery::finish() {
  std::vector<AttemptResult> out;
  out.reserve(results_.size());
  for (auto& result : results_) {
    if (result) {
      out.push_back(std::move(*result));
    } else {
      std::string why = last_error_.empty()
                            ? fmt::format("no mail server for {} could be reached", destination_)
                            : last_error_;
      out.push_back(
          AttemptResult{RecipientResult{Outcome::kTemporary, why, "4.4.1", false}, "", false});
    }
  }
  // The owner may destroy this object from `done`.
  Done done = std::move(done_);
  done(std::move(out));
}

}  // namespace chapar::smtp::outbound
