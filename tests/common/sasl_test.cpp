// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/auth/sasl.hpp"

#include <doctest/doctest.h>

#include "common/text/base64.hpp"

namespace chapar::auth {
namespace {

using Kind = SaslStep::Kind;

std::string b64(std::string_view s) {
  return text::base64_encode(s);
}

std::string nul(std::string_view a, std::string_view b, std::string_view c) {
  std::string s(a);
  s += '\0';
  s += b;
  s += '\0';
  s += c;
  return s;
}

void check_done(const SaslStep& step, std::string_view user, std::string_view password) {
  REQUIRE(step.kind == Kind::kDone);
  CHECK(step.credentials.user == user);
  CHECK(step.credentials.password == password);
}

void check_failed(const SaslStep& step, SaslError error) {
  REQUIRE(step.kind == Kind::kFailed);
  CHECK(step.error == error);
}

TEST_CASE("sasl: mechanism names") {
  CHECK(parse_sasl_mechanism("PLAIN") == SaslMechanism::kPlain);
  CHECK(parse_sasl_mechanism("plain") == SaslMechanism::kPlain);
  CHECK(parse_sasl_mechanism("Login") == SaslMechanism::kLogin);
  CHECK_FALSE(parse_sasl_mechanism("CRAM-MD5").has_value());
  CHECK_FALSE(parse_sasl_mechanism("").has_value());
}

TEST_CASE("sasl: PLAIN with an initial response") {
  SaslServer s(SaslMechanism::kPlain);
  check_done(s.start(b64(nul("", "bob@example.org", "pa ss"))), "bob@example.org", "pa ss");
  // RFC 4616 §4 example.
  SaslServer t(SaslMechanism::kPlain);
  check_done(t.start("dGltAHRpbQB0YW5zdGFhZnRhbnN0YWFm"), "tim", "tanstaaftanstaaf");
}

TEST_CASE("sasl: PLAIN after an empty challenge") {
  SaslServer s(SaslMechanism::kPlain);
  SaslStep first = s.start(std::nullopt);
  REQUIRE(first.kind == Kind::kChallenge);
  CHECK(first.challenge.empty());
  check_done(s.respond(b64(nul("bob", "bob", "secret"))), "bob", "secret");
  check_failed(s.respond(b64(nul("", "bob", "secret"))), SaslError::kMalformed);
}

TEST_CASE("sasl: PLAIN authorization identity") {
  SaslServer same(SaslMechanism::kPlain);
  check_done(same.start(b64(nul("Bob@Example.org", "bob@example.org", "x"))), "bob@example.org",
             "x");
  SaslServer other(SaslMechanism::kPlain);
  check_failed(other.start(b64(nul("alice", "bob", "x"))), SaslError::kAuthzidMismatch);
}

TEST_CASE("sasl: malformed PLAIN messages") {
  const std::string bad[] = {
      b64("bobsecret"),                                 // no NUL
      b64(std::string("bob\0secret", 10)),              // one NUL
      b64(nul("", "", "secret")),                       // empty authcid
      b64(nul("", "bob", "")),                          // empty passwd
      b64(nul("", "bob", std::string("se\0cret", 7))),  // NUL in passwd
      "not base64!",
      "Zm9v\r\n",
      "=",  // empty initial response
      "",
  };
  for (const std::string& line : bad) {
    CAPTURE(line);
    SaslServer s(SaslMechanism::kPlain);
    check_failed(s.start(line), SaslError::kMalformed);
    SaslServer t(SaslMechanism::kPlain);
    REQUIRE(t.start(std::nullopt).kind == Kind::kChallenge);
    check_failed(t.respond(line), SaslError::kMalformed);
  }
}

TEST_CASE("sasl: cancelling") {
  SaslServer plain(SaslMechanism::kPlain);
  REQUIRE(plain.start(std::nullopt).kind == Kind::kChallenge);
  check_failed(plain.respond("*"), SaslError::kCancelled);
  SaslServer login(SaslMechanism::kLogin);
  REQUIRE(login.start(std::nullopt).kind == Kind::kChallenge);
  REQUIRE(login.respond(b64("bob")).kind == Kind::kChallenge);
  check_failed(login.respond("*"), SaslError::kCancelled);
  SaslServer initial(SaslMechanism::kPlain);
  check_failed(initial.start("*"), SaslError::kCancelled);
}

TEST_CASE("sasl: LOGIN") {
  SaslServer s(SaslMechanism::kLogin);
  SaslStep user = s.start(std::nullopt);
  REQUIRE(user.kind == Kind::kChallenge);
  CHECK(*text::base64_decode(user.challenge) == "Username:");
  SaslStep password = s.respond(b64("bob@example.org"));
  REQUIRE(password.kind == Kind::kChallenge);
  CHECK(*text::base64_decode(password.challenge) == "Password:");
  check_done(s.respond(b64("secret")), "bob@example.org", "secret");
  check_failed(s.respond(b64("more")), SaslError::kMalformed);
}

TEST_CASE("sasl: LOGIN with the user name as initial response") {
  SaslServer s(SaslMechanism::kLogin);
  SaslStep password = s.start(b64("bob"));
  REQUIRE(password.kind == Kind::kChallenge);
  CHECK(password.challenge == "UGFzc3dvcmQ6");
  check_done(s.respond(b64("secret")), "bob", "secret");
}

TEST_CASE("sasl: malformed LOGIN answers") {
  for (std::string_view line : {"", "=", "***", "Ym9i\n"}) {
    CAPTURE(line);
    SaslServer s(SaslMechanism::kLogin);
    REQUIRE(s.start(std::nullopt).kind == Kind::kChallenge);
    check_failed(s.respond(line), SaslError::kMalformed);
  }
  SaslServer nul_user(SaslMechanism::kLogin);
  REQUIRE(nul_user.start(std::nullopt).kind == Kind::kChallenge);
  check_failed(nul_user.respond(b64(std::string("b\0b", 3))), SaslError::kMalformed);
  SaslServer nul_password(SaslMechanism::kLogin);
  REQUIRE(nul_password.start(b64("bob")).kind == Kind::kChallenge);
  check_failed(nul_password.respond(b64(std::string("s\0", 2))), SaslError::kMalformed);
  SaslServer empty_password(SaslMechanism::kLogin);
  REQUIRE(empty_password.start(b64("bob")).kind == Kind::kChallenge);
  check_failed(empty_password.respond(""), SaslError::kMalformed);
}

TEST_CASE("sasl: calls out of order fail") {
  SaslServer s(SaslMechanism::kPlain);
  check_failed(s.respond(b64(nul("", "bob", "x"))), SaslError::kMalformed);
  SaslServer t(SaslMechanism::kLogin);
  REQUIRE(t.start(std::nullopt).kind == Kind::kChallenge);
  check_failed(t.start(std::nullopt), SaslError::kMalformed);
}

}  // namespace
}  // namespace chapar::auth
