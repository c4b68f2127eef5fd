// SPDX-License-Identifier: AGPL-3.0-or-later
// The not-authenticated state (RFC 9051 §6.2): STARTTLS, AUTHENTICATE with SASL-IR
// (RFC 4959) and LOGIN. Passwords are accepted only over TLS or from loopback.
#include <fmt/format.h>

#include "common/log.hpp"
#include "imapd/response.hpp"
#include "imapd/session.hpp"

namespace chapar::imap {
namespace {

constexpr std::string_view kPrivacyText =
    "Plaintext authentication disallowed on non-secure (SSL/TLS) connections.";

}  // namespace

void Session::cmd_starttls(Command& command) {
  if (!command.args.empty()) return finish_bad("STARTTLS takes no arguments.");
  if (host_.tls()) return finish_bad("TLS is already active.");
  if (host_.listener().tls != net::TlsMode::kStartTls) {
    return finish_bad("TLS is not available here.");
  }
  // RFC 9051 §6.2.1: whatever the client sent after STARTTLS is dropped, unread.
  input_.clear();
  reader_.reset();
  tls_pending_ = true;
  send(status_line(current_.tag, kOk, "", "Begin TLS negotiation now."));
  busy_ = false;
  host_.start_tls();
}

void Session::cmd_login(Command& command) {
  if (command.args.size() != 2 || !command.args[0].is_astring() || !command.args[1].is_astring()) {
    return finish_bad("LOGIN takes a user name and a password.");
  }
  // RFC 9051 §6.2.3: LOGIN is refused while LOGINDISABLED is advertised.
  if (!plaintext_login_allowed()) return finish_no(code::kPrivacyRequired, kPrivacyText);
  authenticate(command.args[0].value, command.args[1].value, "login");
}

void Session::cmd_authenticate(Command& command) {
  if (command.args.empty() || command.args.size() > 2 || !command.args[0].is_atom() ||
      (command.args.size() == 2 && !command.args[1].is_atom())) {
    return finish_bad("Invalid AUTHENTICATE arguments.");
  }
  if (!plaintext_login_allowed()) return finish_no(code::kPrivacyRequired, kPrivacyText);
  auto mechanism = auth::parse_sasl_mechanism(command.args[0].value);
  if (!mechanism) return finish_no("", "Unsupported authentication mechanism.");
  sasl_mechanism_ = to_upper(command.args[0].value);
  sasl_.emplace(*mechanism);
  // RFC 4959 §3: the initial response as the second argument; "=" is an empty one.
  std::optional<std::string_view> initial;
  if (command.args.size() == 2) initial = command.args[1].value;
  sasl_reply(sasl_->start(initial));
}

void Session::handle_sasl_line(std::string_view line) {
  if (!sasl_) return;
  sasl_reply(sasl_->respond(line));
}

void Session::sasl_reply(const auth::SaslStep& step) {
  switch (step.kind) {
    case auth::SaslStep::Kind::kChallenge:
      mode_ = Mode::kSasl;
      send(fmt::format("+ {}\r\n", step.challenge));
      return;
    case auth::SaslStep::Kind::kDone: {
      mode_ = Mode::kCommands;
      auth::Credentials credentials = step.credentials;
      sasl_.reset();
      return authenticate(std::move(credentials.user), std::move(credentials.password),
                          sasl_mechanism_);
    }
    case auth::SaslStep::Kind::kFailed:
      mode_ = Mode::kCommands;
      sasl_.reset();
      switch (step.error) {
        case auth::SaslError::kCancelled:
          // RFC 9051 §6.2.2: "*" cancels, answered with BAD.
          return finish_bad("Authentication aborted.");
        case auth::SaslError::kAuthzidMismatch:
          return finish_no("AUTHORIZATIONFAILED", "Authorization failed.");
        case auth::SaslError::kMalformed:
          return finish_bad("Invalid authentication data.");
      }
  }
}

void Session::authenticate(std::string user, std::string password, std::string_view mechanism) {
  std::string method(mechanism);
  login_.verify(std::move(user), std::move(password), [this, method](Result<store::Account> r) {
    if (!r) {
      if (r.error().code == Errc::kUnavailable) {
        return finish_no(code::kUnavailable, "Temporary authentication failure.");
      }
      return finish_no(code::kAuthenticationFailed, "Authentication failed.");
    }
    account_ = std::move(*r);
    state_ = State::kAuthenticated;
    reader_.set_limits(ReaderLimits{services_.config.imapd.max_command_length,
                                    services_.config.imapd.max_literal_size});
    host_.logger().info("login", {{"user", account_->address()}, {"method", method}});
    // RFC 9051 §6.2.2: the capabilities change with the state; tell them in the OK.
    finish("OK", "CAPABILITY " + capabilities(), "Logged in.");
  });
}

}  // namespace chapar::imap
