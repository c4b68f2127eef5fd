// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/auth/sasl.hpp"

#include "common/text/ascii.hpp"
#include "common/text/base64.hpp"

namespace chapar::auth {
namespace {

// The LOGIN mechanism's customary prompts, "Username:" and "Password:".
constexpr std::string_view kUsernamePrompt = "VXNlcm5hbWU6";
constexpr std::string_view kPasswordPrompt = "UGFzc3dvcmQ6";

SaslStep challenge(std::string_view text) {
  SaslStep step;
  step.kind = SaslStep::Kind::kChallenge;
  step.challenge = std::string(text);
  return step;
}

SaslStep failure(SaslError error) {
  SaslStep step;
  step.kind = SaslStep::Kind::kFailed;
  step.error = error;
  return step;
}

SaslStep done(std::string user, std::string password) {
  SaslStep step;
  step.kind = SaslStep::Kind::kDone;
  step.credentials = {std::move(user), std::move(password)};
  return step;
}

bool has_nul(std::string_view s) {
  return s.find('\0') != std::string_view::npos;
}

}  // namespace

std::optional<SaslMechanism> parse_sasl_mechanism(std::string_view name) {
  if (text::iequals(name, "PLAIN")) return SaslMechanism::kPlain;
  if (text::iequals(name, "LOGIN")) return SaslMechanism::kLogin;
  return std::nullopt;
}

SaslStep SaslServer::start(std::optional<std::string_view> initial_response) {
  if (state_ != State::kStart) return finish(failure(SaslError::kMalformed));
  if (!initial_response) {
    // RFC 4616 §2: PLAIN starts with an empty challenge; LOGIN asks for the user name.
    if (mechanism_ == SaslMechanism::kPlain) {
      state_ = State::kPlain;
      return challenge("");
    }
    state_ = State::kLoginUser;
    return challenge(kUsernamePrompt);
  }
  state_ = mechanism_ == SaslMechanism::kPlain ? State::kPlain : State::kLoginUser;
  // RFC 4954 §4: "=" is an initial response of zero length.
  return respond(*initial_response == "=" ? std::string_view() : *initial_response);
}

SaslStep SaslServer::respond(std::string_view line) {
  if (state_ == State::kStart || state_ == State::kFinished) {
    return finish(failure(SaslError::kMalformed));
  }
  if (line == "*") return finish(failure(SaslError::kCancelled));
  if (line == "=") line = {};
  auto decoded = text::base64_decode(line);
  if (!decoded) return finish(failure(SaslError::kMalformed));
  return accept(*decoded);
}

SaslStep SaslServer::accept(std::string_view decoded) {
  switch (state_) {
    case State::kPlain:
      return finish(plain(decoded));
    case State::kLoginUser:
      if (decoded.empty() || has_nul(decoded)) return finish(failure(SaslError::kMalformed));
      user_ = std::string(decoded);
      state_ = State::kLoginPassword;
      return challenge(kPasswordPrompt);
    case State::kLoginPassword:
      if (decoded.empty() || has_nul(decoded)) return finish(failure(SaslError::kMalformed));
      return finish(done(std::move(user_), std::string(decoded)));
    case State::kStart:
    case State::kFinished:
      break;
  }
  return finish(failure(SaslError::kMalformed));
}

SaslStep SaslServer::plain(std::string_view message) {
  // RFC 4616 §2: message = [authzid] UTF8NUL authcid UTF8NUL passwd; authcid and passwd
  // are 1*SAFE, SAFE excluding NUL.
  size_t first = message.find('\0');
  if (first == std::string_view::npos) return failure(SaslError::kMalformed);
  size_t second = message.find('\0', first + 1);
  if (second == std::string_view::npos) return failure(SaslError::kMalformed);
  std::string_view authzid = message.substr(0, first);
  std::string_view authcid = message.substr(first + 1, second - first - 1);
  std::string_view passwd = message.substr(second + 1);
  if (authcid.empty() || passwd.empty() || has_nul(passwd)) {
    return failure(SaslError::kMalformed);
  }
  // Acting as another identity is not offered; naming oneself is the same as naming nobody.
  if (!authzid.empty() && !text::iequals(authzid, authcid)) {
    return failure(SaslError::kAuthzidMismatch);
  }
  return done(std::string(authcid), std::string(passwd));
}

SaslStep SaslServer::finish(SaslStep step) {
  state_ = State::kFinished;
  user_.clear();
  return step;
}

}  // namespace chapar::auth
