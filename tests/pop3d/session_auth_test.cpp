// SPDX-License-Identifier: AGPL-3.0-or-later
// The AUTHORIZATION state: greeting, CAPA, USER/PASS, AUTH, STLS and the refusal of
// passwords in the clear.
#include <doctest/doctest.h>

#include <string>

#include "tests/pop3d/pop3_fixture.hpp"

namespace chapar::pop3::test {
namespace {

constexpr std::string_view kCapaHead =
    "S: +OK Capability list follows\n"
    "S: TOP\n"
    "S: UIDL\n"
    "S: RESP-CODES\n"
    "S: AUTH-RESP-CODE\n"
    "S: PIPELINING\n"
    "S: EXPIRE NEVER\n"
    "S: IMPLEMENTATION Chapar\n";

std::string capa(bool passwords, bool stls) {
  std::string out(kCapaHead);
  if (passwords) out += "S: USER\nS: SASL PLAIN LOGIN\n";
  if (stls) out += "S: STLS\n";
  return out + "S: .\n";
}

}  // namespace

TEST_CASE_FIXTURE(Pop3Fixture, "USER and PASS on loopback, CAPA in each state") {
  replay(
      "S: +OK Chapar ready.\n"
      "C: CAPA\n" +
          capa(true, true) + std::string(kAliceLogin) + "C: CAPA\n" + capa(false, false) +
          "C: QUIT\n"
          "S: +OK Logging out.\n",
      loopback());
}

TEST_CASE_FIXTURE(Pop3Fixture, "a user name without a domain means the only domain") {
  replay(
      "S: +OK Chapar ready.\n"
      "C: user alice\n"
      "S: +OK\n"
      "C: pass correct horse\n"
      "S: +OK Logged in.\n"
      "C: quit\n"
      "S: +OK Logging out.\n",
      loopback());
}

TEST_CASE_FIXTURE(Pop3Fixture, "failed logins") {
  replay(
      "S: +OK Chapar ready.\n"
      "C: PASS correct horse\n"
      "S: -ERR No username given.\n"
      "C: USER alice@example.org\n"
      "S: +OK\n"
      "C: PASS wrong\n"
      "S: -ERR [AUTH] Authentication failed.\n"
      "C: PASS correct horse\n"
      "S: -ERR No username given.\n"
      "C: USER carol@example.org\n"
      "S: +OK\n"
      "C: PASS correct horse\n"
      "S: -ERR [AUTH] Authentication failed.\n"
      "C: USER\n"
      "S: -ERR Syntax: USER name\n"
      "C: USER alice@example.org\n"
      "S: +OK\n"
      "C: PASS\n"
      "S: -ERR Syntax: PASS password\n"
      "C: PASS correct horse \n"
      "S: -ERR [AUTH] Authentication failed.\n"
      "C: QUIT\n"
      "S: +OK Logging out.\n",
      loopback());
}

TEST_CASE_FIXTURE(Pop3Fixture, "failed logins are slowed down by the throttle") {
  chapar::test::TestHost host(loopback());
  host.open(factory());
  host.feed("USER alice@example.org\r\nPASS wrong\r\nUSER alice@example.org\r\nPASS wrong\r\n");
  CHECK(host.output() ==
        "+OK Chapar ready.\r\n+OK\r\n-ERR [AUTH] Authentication failed.\r\n"
        "+OK\r\n-ERR [AUTH] Authentication failed.\r\n");
  bool delayed = false;
  for (auto delay : host.delays()) delayed = delayed || delay.count() > 0;
  CHECK(delayed);
}

TEST_CASE_FIXTURE(Pop3Fixture, "AUTH PLAIN with and without an initial response") {
  replay(
      "S: +OK Chapar ready.\n"
      "C: AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAGNvcnJlY3QgaG9yc2U=\n"
      "S: +OK Logged in.\n"
      "C: QUIT\n"
      "S: +OK Logging out.\n",
      loopback());
  replay(
      "S: +OK Chapar ready.\n"
      "C: auth plain\n"
      "S: + \n"
      "C: YWxpY2VAZXhhbXBsZS5vcmcAYWxpY2VAZXhhbXBsZS5vcmcAY29ycmVjdCBob3JzZQ==\n"
      "S: +OK Logged in.\n"
      "C: STAT\n"
      "S: +OK 3 " +
          std::to_string(kMessages[0].size() + kMessages[1].size() + kMessages[2].size()) +
          "\n"
          "C: QUIT\n"
          "S: +OK Logging out.\n",
      loopback());
}

TEST_CASE_FIXTURE(Pop3Fixture, "AUTH LOGIN with and without an initial response") {
  replay(
      "S: +OK Chapar ready.\n"
      "C: AUTH LOGIN\n"
      "S: + VXNlcm5hbWU6\n"
      "C: YWxpY2VAZXhhbXBsZS5vcmc=\n"
      "S: + UGFzc3dvcmQ6\n"
      "C: Y29ycmVjdCBob3JzZQ==\n"
      "S: +OK Logged in.\n"
      "C: QUIT\n"
      "S: +OK Logging out.\n",
      loopback());
  replay(
      "S: +OK Chapar ready.\n"
      "C: AUTH LOGIN YWxpY2VAZXhhbXBsZS5vcmc=\n"
      "S: + UGFzc3dvcmQ6\n"
      "C: Y29ycmVjdCBob3JzZQ==\n"
      "S: +OK Logged in.\n",
      loopback());
}

TEST_CASE_FIXTURE(Pop3Fixture, "AUTH errors") {
  replay(
      "S: +OK Chapar ready.\n"
      "C: AUTH\n"
      "S: +OK Supported mechanisms follow\n"
      "S: PLAIN\n"
      "S: LOGIN\n"
      "S: .\n"
      "C: AUTH CRAM-MD5\n"
      "S: -ERR Unsupported authentication mechanism.\n"
      "C: AUTH PLAIN\n"
      "S: + \n"
      "C: *\n"
      "S: -ERR Authentication aborted by client.\n"
      "C: AUTH LOGIN\n"
      "S: + VXNlcm5hbWU6\n"
      "C: *\n"
      "S: -ERR Authentication aborted by client.\n"
      "C: AUTH PLAIN not-base64!\n"
      "S: -ERR Invalid authentication data (bad base64 or format).\n"
      "C: AUTH PLAIN =\n"
      "S: -ERR Invalid authentication data (bad base64 or format).\n"
      "C: AUTH PLAIN bm9udWw=\n"
      "S: -ERR Invalid authentication data (bad base64 or format).\n"
      "C: AUTH PLAIN Ym9iQGV4YW1wbGUub3JnAGFsaWNlQGV4YW1wbGUub3JnAGNvcnJlY3QgaG9yc2U=\n"
      "S: -ERR [AUTH] Authentication failed.\n"
      "C: AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHdyb25n\n"
      "S: -ERR [AUTH] Authentication failed.\n"
      "C: AUTH PLAIN x y z\n"
      "S: -ERR Syntax: AUTH [mechanism [initial-response]]\n"
      "C: QUIT\n"
      "S: +OK Logging out.\n",
      loopback());
}

TEST_CASE_FIXTURE(Pop3Fixture, "passwords are refused in the clear except on loopback") {
  replay(
      "S: +OK Chapar ready.\n"
      "C: CAPA\n" +
          capa(false, true) +
          "C: USER alice@example.org\n"
          "S: -ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) "
          "connections.\n"
          "C: PASS correct horse\n"
          "S: -ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) "
          "connections.\n"
          "C: AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAGNvcnJlY3QgaG9yc2U=\n"
          "S: -ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) "
          "connections.\n"
          "C: STAT\n"
          "S: -ERR Not logged in.\n"
          "C: QUIT\n"
          "S: +OK Logging out.\n",
      remote());
}

TEST_CASE_FIXTURE(Pop3Fixture, "on an implicit TLS listener passwords are accepted") {
  replay(
      "S: +OK Chapar ready.\n"
      "C: CAPA\n" +
          capa(true, false) +
          "C: STLS\n"
          "S: -ERR TLS is already active.\n" +
          std::string(kAliceLogin) +
          "C: QUIT\n"
          "S: +OK Logging out.\n",
      connection(false, net::TlsMode::kImplicit));
}

TEST_CASE_FIXTURE(Pop3Fixture, "STLS is refused where the listener has no TLS") {
  replay(
      "S: +OK Chapar ready.\n"
      "C: CAPA\n" +
          capa(true, false) +
          "C: STLS\n"
          "S: -ERR TLS support isn't enabled.\n",
      connection(true, net::TlsMode::kNone));
}

TEST_CASE_FIXTURE(Pop3Fixture, "STLS, then passwords are accepted from anywhere") {
  chapar::test::TestHost host(remote());
  host.open(factory());
  host.feed("STLS\r\n");
  CHECK(host.tls_active());
  host.feed("CAPA\r\nUSER alice@example.org\r\nPASS correct horse\r\nSTAT\r\nQUIT\r\n");
  std::string expected = "+OK Chapar ready.\r\n+OK Begin TLS negotiation now.\r\n";
  chapar::test::Script capa_lines = chapar::test::Script::parse(capa(true, false));
  expected += capa_lines.all_server();
  expected += "+OK\r\n+OK Logged in.\r\n+OK 3 " +
              std::to_string(kMessages[0].size() + kMessages[1].size() + kMessages[2].size()) +
              "\r\n+OK Logging out.\r\n";
  CHECK(host.output() == expected);
  CHECK(host.closed());
}

TEST_CASE_FIXTURE(Pop3Fixture, "commands pipelined behind STLS are discarded") {
  // RFC 2595 §3.1: an attacker could have appended them to the plaintext.
  for (size_t split = 0; split <= 6; ++split) {
    chapar::test::TestHost host(remote());
    host.open(factory());
    std::string input = "STLS\r\nUSER alice@example.org\r\nPASS correct horse\r\n";
    host.feed(input.substr(0, 6 + split));
    CHECK(host.tls_active());
    host.feed("STAT\r\nCAPA\r\n");
    std::string out = host.output();
    CHECK(out.find("+OK Begin TLS negotiation now.\r\n-ERR Not logged in.\r\n"
                   "+OK Capability list follows\r\n") != std::string::npos);
    CHECK(out.find("Logged in.") == std::string::npos);
  }
}

TEST_CASE_FIXTURE(Pop3Fixture, "USER given before STLS is forgotten") {
  chapar::test::TestHost host(connection(true));
  host.open(factory());
  host.feed("USER alice@example.org\r\n");
  host.feed("STLS\r\n");
  host.feed("PASS correct horse\r\nQUIT\r\n");
  CHECK(host.output() ==
        "+OK Chapar ready.\r\n+OK\r\n+OK Begin TLS negotiation now.\r\n"
        "-ERR No username given.\r\n+OK Logging out.\r\n");
}

TEST_CASE_FIXTURE(Pop3Fixture, "unknown commands, wrong states and bad syntax") {
  replay(
      "S: +OK Chapar ready.\n"
      "C: APOP alice@example.org c4c9334bac560ecc979e58001b3e22fb\n"
      "S: -ERR Unknown command.\n"
      "C: \n"
      "S: -ERR Unknown command.\n"
      "C: HELO\n"
      "S: -ERR Unknown command.\n"
      "C: RETR 1\n"
      "S: -ERR Not logged in.\n"
      "C: NOOP\n"
      "S: -ERR Not logged in.\n"
      "C: CAPA now\n"
      "S: -ERR Syntax: CAPA\n"
      "C: STLS please\n"
      "S: -ERR Syntax: STLS\n" +
          std::string(kAliceLogin) +
          "C: USER bob@example.org\n"
          "S: -ERR Already logged in.\n"
          "C: AUTH PLAIN\n"
          "S: -ERR Already logged in.\n"
          "C: STLS\n"
          "S: -ERR Already logged in.\n"
          "C: QUIT now\n"
          "S: -ERR Syntax: QUIT\n"
          "C: QUIT\n"
          "S: +OK Logging out.\n",
      loopback());
}

TEST_CASE_FIXTURE(Pop3Fixture, "an over-long line is answered and skipped") {
  std::string long_arg(300, 'x');
  replay(
      "S: +OK Chapar ready.\n"
      "C: USER " +
          long_arg +
          "\n"
          "S: -ERR Line too long.\n"
          "C: AUTH PLAIN\n"
          "S: + \n"
          "C: " +
          long_arg +
          "\n"
          "S: -ERR Line too long.\n"
          "C: NOOP\n"
          "S: -ERR Not logged in.\n" +
          std::string(kAliceLogin),
      loopback());
}

TEST_CASE_FIXTURE(Pop3Fixture, "a line without CR is accepted") {
  chapar::test::TestHost host(loopback());
  host.open(factory());
  host.feed("USER alice\nPASS correct horse\nQUIT\n");
  CHECK(host.output() == "+OK Chapar ready.\r\n+OK\r\n+OK Logged in.\r\n+OK Logging out.\r\n");
}

}  // namespace chapar::pop3::test
