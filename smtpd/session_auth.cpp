// SPDX-License-Identifier: AGPL-3.0-or-later
// AUTH (RFC 4954) with SASL PLAIN and LOGIN.
#include <fmt/format.h>

#include "common/log.hpp"
#include "smtpd/session.hpp"

namespace chapar::smtp {

void Session::cmd_auth(std::string_view args) {
  // RFC 4954 §4: one successful AUTH per session.
  if (account_) {
    reply(kBadSequence503, "Error: already authenticated");
    return;
  }
  CommandLine words = split_command(args);
  if (words.verb.empty() || words.args.find(' ') != std::string_view::npos) {
    reply(kSyntax501, "Syntax: AUTH mechanism [initial-response]");
    return;
  }
  std::optional<auth::SaslMechanism> mechanism = auth::parse_sasl_mechanism(words.verb);
  if (!mechanism) {
    reply(kMechanismUnsupported504, "Error: unsupported authentication mechanism");
    return;
  }
  sasl_mechanism_ = *mechanism == auth::SaslMechanism::kPlain ? "PLAIN" : "LOGIN";
  sasl_.emplace(*mechanism);
  std::optional<std::string_view> initial;
  if (!words.args.empty()) initial = words.args;
  sasl_step(sasl_->start(initial));
}

void Session::auth_line(const net::Line& line) {
  if (line.overlong) {
    sasl_.reset();
    mode_ = Mode::kCommand;
    reply(kAuthLineTooLong500, "Error: authentication exchange line is too long");
    return;
  }
  sasl_step(sasl_->respond(line.text));
}

void Session::sasl_step(const auth::SaslStep& step) {
  switch (step.kind) {
    case auth::SaslStep::Kind::kChallenge:
      // RFC 4954 §4: the challenge alone after "334 ", "334 " when it is empty.
      mode_ = Mode::kAuthResponse;
      reply_uncounted(kAuthChallenge334, step.challenge);
      return;
    case auth::SaslStep::Kind::kDone:
      mode_ = Mode::kCommand;
      sasl_.reset();
      authenticate(step.credentials);
      return;
    case auth::SaslStep::Kind::kFailed:
      mode_ = Mode::kCommand;
      sasl_.reset();
      switch (step.error) {
        case auth::SaslError::kCancelled:
          // RFC 4954 §4: "*" cancels, answered with 501.
          reply(kAuthCancelled501, "Authentication aborted");
          return;
        case auth::SaslError::kMalformed:
          reply(kBadBase64_501, "Error: invalid SASL response");
          return;
        case auth::SaslError::kAuthzidMismatch:
          reply(kAuthFailed535, "Error: authentication failed");
          return;
      }
      return;
  }
}

void Session::authenticate(auth::Credentials credentials) {
  waiting_ = true;
  login_.verify(std::move(credentials.user), std::move(credentials.password),
                [this](Result<store::Account> account) {
                  waiting_ = false;
                  if (!account) {
                    login_failed(account.error());
                  } else {
                    account_ = std::move(*account);
                    host_.logger().info(
                        "login", {{"user", account_->address()}, {"method", sasl_mechanism_}});
                    reply(kAuthSucceeded235, "Authentication successful");
                  }
                  resume();
                });
}

void Session::login_failed(const Error& error) {
  if (error.code == Errc::kPermissionDenied) {
    reply(kAuthFailed535, "Error: authentication failed");
    return;
  }
  // RFC 4954 §6: a temporary failure of the server, not the client's password.
  reply(kTemporaryAuthFailure454, "Temporary authentication failure");
}

}  // namespace chapar::smtp
