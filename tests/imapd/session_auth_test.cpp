// SPDX-License-Identifier: AGPL-3.0-or-later
// Any-state and not-authenticated commands: CAPABILITY, NOOP, LOGOUT, ID, STARTTLS, LOGIN,
// AUTHENTICATE, and the central checks of the command table.
#include <doctest/doctest.h>

#include "tests/imapd/imap_fixture.hpp"

namespace chapar::imap::test {
namespace {

TEST_CASE("imap: greeting, CAPABILITY, LOGIN, LOGOUT") {
  ImapFixture f;
  f.replay(kGreeting + R"(C: a CAPABILITY
S: * CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE STARTTLS AUTH=PLAIN AUTH=LOGIN
S: a OK Capability completed.
C: b LOGIN alice@example.org secret
S: b OK [CAPABILITY )" +
           kAuthCapabilities + R"(] Logged in.
C: c LOGOUT
S: * BYE Logging out.
S: c OK Logout completed.
)");
}

TEST_CASE("imap: literals in LOGIN, synchronizing and not") {
  ImapFixture f;
  f.replay(kGreeting + R"(C: a LOGIN {17}
S: + OK
C: alice@example.org {6+}
C: secret
S: a OK [CAPABILITY )" +
           kAuthCapabilities + R"(] Logged in.
)");
}

TEST_CASE("imap: AUTHENTICATE PLAIN with an initial response, LOGIN in steps, cancel") {
  ImapFixture f;
  // "\0alice@example.org\0secret"
  f.replay(kGreeting + R"(C: a AUTHENTICATE PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHNlY3JldA==
S: a OK [CAPABILITY )" +
           kAuthCapabilities + R"(] Logged in.
)");
  f.play(kGreeting + R"(C: a AUTHENTICATE PLAIN
S: + 
C: *
S: a BAD Authentication aborted.
C: b AUTHENTICATE LOGIN
S: + VXNlcm5hbWU6
C: YWxpY2VAZXhhbXBsZS5vcmc=
S: + UGFzc3dvcmQ6
C: c2VjcmV0
S: b OK [CAPABILITY )" +
         kAuthCapabilities + R"(] Logged in.
)");
  f.play(kGreeting + R"(C: a AUTHENTICATE CRAM-MD5
S: a NO Unsupported authentication mechanism.
C: b AUTHENTICATE PLAIN !!!
S: b BAD Invalid authentication data.
)");
}

TEST_CASE("imap: a wrong password is answered after the throttle's delay") {
  ImapFixture f;
  chapar::test::TestHost host;
  host.open(f.factory());
  f.converse(host, kGreeting + R"(C: a LOGIN alice@example.org wrong
S: a NO [AUTHENTICATIONFAILED] Authentication failed.
C: b LOGIN nobody@example.org secret
S: b NO [AUTHENTICATIONFAILED] Authentication failed.
C: c SELECT INBOX
S: c BAD Log in first.
)");
  CHECK_FALSE(host.delays().empty());
}

TEST_CASE("imap: no password over plaintext except from loopback") {
  ImapFixture f;
  chapar::test::TestHost::Options remote;
  remote.peer = net::PeerInfo{"192.0.2.7", 40000, false};
  f.replay(
      R"(S: * OK [CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE STARTTLS LOGINDISABLED] Chapar IMAP ready.
C: a LOGIN alice@example.org secret
S: a NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.
C: b AUTHENTICATE PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHNlY3JldA==
S: b NO [PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.
)",
      remote);
}

TEST_CASE("imap: STARTTLS drops what was pipelined behind it") {
  ImapFixture f;
  chapar::test::TestHost::Options remote;
  remote.peer = net::PeerInfo{"192.0.2.7", 40000, false};
  chapar::test::TestHost host(remote);
  host.open(f.factory());
  host.take_output();
  host.feed("a STARTTLS\r\nb LOGIN alice@example.org secret\r\n");
  CHECK(host.take_output() == "a OK Begin TLS negotiation now.\r\n");
  CHECK(host.tls_active());
  host.feed("c CAPABILITY\r\n");
  CHECK(host.take_output() ==
        "* CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE AUTH=PLAIN "
        "AUTH=LOGIN\r\nc OK Capability completed.\r\n");
  host.feed("d STARTTLS\r\n");
  CHECK(host.take_output() == "d BAD TLS is already active.\r\n");
}

TEST_CASE("imap: implicit TLS offers no STARTTLS") {
  ImapFixture f;
  chapar::test::TestHost::Options tls;
  tls.listener = net::ListenerInfo{"imaps", net::TlsMode::kImplicit};
  tls.peer = net::PeerInfo{"192.0.2.7", 40000, false};
  tls.implicit_tls = true;
  f.replay(
      R"(S: * OK [CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE AUTH=PLAIN AUTH=LOGIN] Chapar IMAP ready.
C: a STARTTLS
S: a BAD TLS is already active.
)",
      tls);
}

TEST_CASE("imap: bad commands, states and literals over the limit") {
  ImapFixture f;
  f.play(kGreeting + R"(C: a FROB
S: a BAD Unknown command.
C: b LOGIN "unterminated
S: b BAD Missing '"'.
C: +bad NOOP
S: * BAD Invalid tag.
C: c NOOP extra
S: c BAD NOOP takes no arguments.
C: d LOGIN {70000}
S: d BAD [TOOBIG] Command too long.
C: e ID ("name" "test client")
S: * ID ("name" "Chapar" "vendor" "Chapar")
S: e OK ID completed.
C: f ID NIL
S: * ID ("name" "Chapar" "vendor" "Chapar")
S: f OK ID completed.
C: g FETCH 1 FLAGS
S: g BAD Log in first.
)");
  f.play(kLogin + R"(C: a APPEND INBOX {52428801}
S: a NO [TOOBIG] Message too large.
C: b FETCH 1 FLAGS
S: b BAD No mailbox selected.
C: c LOGIN alice@example.org secret
S: c BAD Command not valid in this state.
C: d UID FROB 1
S: d BAD Unknown command.
)");
}

TEST_CASE("imap: timeouts and shutdown say BYE") {
  ImapFixture f;
  auto host = f.open();
  host->session().on_idle_timeout();
  CHECK(host->take_output() == "* BYE Disconnected for inactivity.\r\n");
  CHECK(host->closed());
  host = f.open();
  host->session().on_shutdown();
  CHECK(host->take_output() == "* BYE Server shutting down.\r\n");
  CHECK(host->closed());
  CHECK(host->session().idle_timeout() == std::chrono::minutes(30));
}

}  // namespace
}  // namespace chapar::imap::test
