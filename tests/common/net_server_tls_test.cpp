// SPDX-License-Identifier: AGPL-3.0-or-later
#include <doctest/doctest.h>
#include <openssl/ssl.h>

#include "common/net/server.hpp"
#include "tests/common/net_test_support.hpp"
#include "tests/common/tls_test_support.hpp"

namespace chapar::net {
namespace {

using test::EchoStats;
using test::eventually;
using test::TestCertificate;
using test::TestClient;
using test::TestServer;

TEST_CASE("server: STARTTLS upgrades the connection and drops what was pipelined behind it") {
  TestCertificate cert;
  tls::Context server_tls = cert.server_context();
  tls::Context client_tls = cert.client_context(true);
  EchoStats stats;
  ServerOptions options;
  options.tls = &server_tls;
  TestServer server(options, {config::Listener{"test", "127.0.0.1", 0, TlsMode::kStartTls}},
                    test::echo_factory(stats));
  TestClient client(server.port());
  CHECK(client.line() == "220 ready");
  client.send("TLS?\r\n");
  CHECK(client.line() == "250 plain");
  // RFC 3207 §4.2 / CVE-2011-0411: the injected command must never run.
  client.send("STARTTLS\r\nINJECTED\r\n");
  CHECK(client.line() == "220 go");
  client.start_tls(client_tls.native(), "mail.example.test");
  REQUIRE(client.engine() != nullptr);
  CHECK(client.engine()->peer_verified());
  REQUIRE(eventually([&] { return stats.tls_started == 1; }));
  client.send("TLS?\r\n");
  CHECK(client.line() == "250 TLSv1.3");
  client.send("secret\r\nBIG 200000\r\n");
  CHECK(client.line() == "> secret");
  CHECK(client.line()->size() == 200000);
  client.send("QUIT\r\n");
  CHECK(client.line() == "221 bye");
  CHECK(client.closed_by_peer());
  CHECK(client.engine()->peer_closed());
}

TEST_CASE("server: plaintext sent where the handshake belongs fails the connection") {
  TestCertificate cert;
  tls::Context server_tls = cert.server_context();
  EchoStats stats;
  ServerOptions options;
  options.tls = &server_tls;
  TestServer server(options, {config::Listener{"test", "127.0.0.1", 0, TlsMode::kStartTls}},
                    test::echo_factory(stats));
  TestClient client(server.port());
  CHECK(client.line() == "220 ready");
  client.send("STARTTLS\r\n");
  CHECK(client.line() == "220 go");
  client.send("QUIT\r\n");
  CHECK(client.closed_by_peer());
  CHECK(eventually([&] { return stats.destroyed == 1; }));
  CHECK(stats.tls_started == 0);
}

TEST_CASE("server: an implicit TLS listener handshakes before the greeting") {
  TestCertificate cert;
  tls::Context server_tls = cert.server_context();
  tls::Context client_tls = cert.client_context(true);
  EchoStats stats;
  ServerOptions options;
  options.tls = &server_tls;
  TestServer server(options, {config::Listener{"tls", "127.0.0.1", 0, TlsMode::kImplicit}},
                    test::echo_factory(stats));
  TestClient client(server.port());
  client.start_tls(client_tls.native(), "mail.example.test");
  CHECK(client.line() == "220 ready");
  client.send("TLS?\r\n");
  CHECK(client.line() == "250 TLSv1.3");
  CHECK(stats.tls_started == 0);  // start() came after the handshake instead
}

TEST_CASE("server: an implicit TLS handshake with TLS 1.1 is refused") {
  TestCertificate cert;
  tls::Context server_tls = cert.server_context();
  EchoStats stats;
  ServerOptions options;
  options.tls = &server_tls;
  TestServer server(options, {config::Listener{"tls", "127.0.0.1", 0, TlsMode::kImplicit}},
                    test::echo_factory(stats));
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> old(SSL_CTX_new(TLS_client_method()),
                                                        &SSL_CTX_free);
  SSL_CTX_set_security_level(old.get(), 0);
  REQUIRE(SSL_CTX_set_min_proto_version(old.get(), TLS1_VERSION) == 1);
  REQUIRE(SSL_CTX_set_max_proto_version(old.get(), TLS1_1_VERSION) == 1);
  REQUIRE(SSL_CTX_set_cipher_list(old.get(), "ALL:@SECLEVEL=0") == 1);
  auto engine = tls::Engine::client(old.get(), "mail.example.test");
  REQUIRE(engine.has_value());
  TestClient client(server.port());
  client.send(engine->take_ciphertext());
  CHECK(client.closed_by_peer());
  CHECK(eventually([&] { return stats.destroyed == 1; }));
}

TEST_CASE("server: a client that never starts its handshake is cut off") {
  TestCertificate cert;
  tls::Context server_tls = cert.server_context();
  EchoStats stats;
  ServerOptions options;
  options.tls = &server_tls;
  options.handshake_timeout = std::chrono::milliseconds(50);
  TestServer server(options, {config::Listener{"tls", "127.0.0.1", 0, TlsMode::kImplicit}},
                    test::echo_factory(stats));
  TestClient client(server.port());
  CHECK(client.closed_by_peer());
  CHECK(eventually([&] { return stats.destroyed == 1; }));
}

TEST_CASE("server: a STARTTLS request without a certificate closes the connection") {
  EchoStats stats;
  TestServer server({}, {config::Listener{"test", "127.0.0.1", 0, TlsMode::kStartTls}},
                    test::echo_factory(stats));
  TestClient client(server.port());
  CHECK(client.line() == "220 ready");
  client.send("STARTTLS\r\n");
  CHECK(client.closed_by_peer());
}

}  // namespace
}  // namespace chapar::net
