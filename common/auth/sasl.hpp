// SPDX-License-Identifier: AGPL-3.0-or-later
// The server side of SASL PLAIN (RFC 4616) and LOGIN on base64 lines, shared by SMTP AUTH
// (RFC 4954), POP3 AUTH (RFC 5034) and IMAP AUTHENTICATE (RFC 9051 §6.2.2). Pure: the
// protocol sends each challenge with its own prefix ("334 ", "+ ") and checks the password.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chapar::auth {

enum class SaslMechanism { kPlain, kLogin };

// The mechanism called `name`, ignoring case; nullopt for any other.
std::optional<SaslMechanism> parse_sasl_mechanism(std::string_view name);

struct Credentials {
  std::string user;  // the authentication identity
  std::string password;
};

enum class SaslError {
  kCancelled,        // the client answered "*" (RFC 4954 §4)
  kMalformed,        // not base64, or not what the mechanism defines
  kAuthzidMismatch,  // asked to act as another user, which is not offered (RFC 4616 §2)
};

struct SaslStep {
  enum class Kind { kChallenge, kDone, kFailed };
  Kind kind = Kind::kFailed;
  std::string challenge;    // kChallenge: base64, possibly empty, to send to the client
  Credentials credentials;  // kDone
  SaslError error = SaslError::kMalformed;  // kFailed
};

// One exchange. Call start() once, then respond() with each client line while the last step
// was a challenge. Any call after kDone or kFailed fails with kMalformed.
class SaslServer {
 public:
  explicit SaslServer(SaslMechanism mechanism) : mechanism_(mechanism) {}

  // `initial_response` is the optional argument of the AUTH command: base64, "=" for an
  // empty response (RFC 4954 §4), "*" to cancel.
  SaslStep start(std::optional<std::string_view> initial_response);
  // A client line answering a challenge, without its CRLF: base64 (empty or "=" for an empty
  // response) or "*" to cancel.
  SaslStep respond(std::string_view line);

 private:
  enum class State { kStart, kPlain, kLoginUser, kLoginPassword, kFinished };

  SaslStep accept(std::string_view decoded);
  SaslStep plain(std::string_view message);
  SaslStep finish(SaslStep step);

  SaslMechanism mechanism_;
  State state_ = State::kStart;
  std::string user_;
};

}  // namespace chapar::auth
