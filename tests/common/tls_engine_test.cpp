// SPDX-License-Identifier: AGPL-3.0-or-later
#include <doctest/doctest.h>
#include <openssl/ssl.h>

#include <memory>

#include "common/tls/context.hpp"
#include "common/tls/engine.hpp"
#include "tests/common/tls_test_support.hpp"

namespace chapar::tls {
namespace {

using test::pump;
using test::TestCertificate;

struct Pair {
  Engine client;
  Engine server;
};

Pair connect(const Context& server_ctx, const Context& client_ctx, std::string_view host) {
  auto server = Engine::server(server_ctx);
  REQUIRE(server.has_value());
  auto client = Engine::client(client_ctx, host);
  REQUIRE(client.has_value());
  return Pair{std::move(*client), std::move(*server)};
}

TEST_CASE("tls: handshake between in-memory engines, then data both ways") {
  TestCertificate cert;
  Context server_ctx = cert.server_context();
  Context client_ctx = cert.client_context(true);
  Pair p = connect(server_ctx, client_ctx, "mail.example.test");

  CHECK(p.client.has_ciphertext());  // the ClientHello
  CHECK_FALSE(p.client.handshake_done());
  REQUIRE(pump(p.client, p.server));
  REQUIRE(p.client.handshake_done());
  REQUIRE(p.server.handshake_done());
  CHECK(p.client.peer_verified());
  CHECK(p.client.verify_error().empty());

  net::TlsInfo info = p.server.info();
  CHECK(info.version == "TLSv1.3");
  CHECK_FALSE(info.cipher.empty());
  CHECK(info.bits >= 128);
  CHECK(info.server_name == "mail.example.test");

  REQUIRE(p.client.write("EHLO client.example\r\n"));
  REQUIRE(pump(p.client, p.server));
  CHECK(p.server.take_plaintext() == "EHLO client.example\r\n");

  std::string big(200 * 1024, 'x');
  REQUIRE(p.server.write(big));
  REQUIRE(pump(p.client, p.server));
  CHECK(p.client.take_plaintext() == big);

  p.client.close();
  REQUIRE(pump(p.client, p.server));
  CHECK(p.server.peer_closed());
}

TEST_CASE("tls: the ciphertext may arrive a byte at a time") {
  TestCertificate cert;
  Context server_ctx = cert.server_context();
  Context client_ctx = cert.client_context(false);
  Pair p = connect(server_ctx, client_ctx, "mail.example.test");
  REQUIRE(p.client.write("early\r\n"));  // held back until the handshake is done
  for (int round = 0; round < 20; ++round) {
    for (char c : p.client.take_ciphertext()) REQUIRE(p.server.feed(std::string_view(&c, 1)));
    for (char c : p.server.take_ciphertext()) REQUIRE(p.client.feed(std::string_view(&c, 1)));
  }
  CHECK(p.client.handshake_done());
  CHECK(p.server.take_plaintext() == "early\r\n");
}

TEST_CASE("tls: TLS 1.2 is accepted") {
  TestCertificate cert;
  Context server_ctx = cert.server_context();
  Context client_ctx = cert.client_context(true);
  SSL_CTX_set_max_proto_version(client_ctx.native(), TLS1_2_VERSION);
  Pair p = connect(server_ctx, client_ctx, "mail.example.test");
  REQUIRE(pump(p.client, p.server));
  CHECK(p.server.info().version == "TLSv1.2");
  CHECK(p.server.info().cipher.rfind("ECDHE-", 0) == 0);
}

TEST_CASE("tls: TLS 1.1 is refused") {
  TestCertificate cert;
  Context server_ctx = cert.server_context();
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> old(SSL_CTX_new(TLS_client_method()),
                                                        &SSL_CTX_free);
  // Level 0 lets this client offer TLS 1.1 at all; the server must still say no.
  SSL_CTX_set_security_level(old.get(), 0);
  REQUIRE(SSL_CTX_set_min_proto_version(old.get(), TLS1_VERSION) == 1);
  REQUIRE(SSL_CTX_set_max_proto_version(old.get(), TLS1_1_VERSION) == 1);
  REQUIRE(SSL_CTX_set_cipher_list(old.get(), "ALL:@SECLEVEL=0") == 1);

  auto server = Engine::server(server_ctx);
  auto client = Engine::client(old.get(), "mail.example.test");
  REQUIRE(server.has_value());
  REQUIRE(client.has_value());
  Status fed = server->feed(client->take_ciphertext());
  REQUIRE_FALSE(fed.has_value());
  CHECK(fed.error().message.find("unsupported protocol") != std::string::npos);
  CHECK(server->failed());
  CHECK_FALSE(server->handshake_done());
}

TEST_CASE("tls: a verifying client rejects a certificate for another name") {
  TestCertificate cert("mail.example.test");
  Context server_ctx = cert.server_context();
  Context client_ctx = cert.client_context(true);
  Pair p = connect(server_ctx, client_ctx, "other.example.test");
  CHECK_FALSE(pump(p.client, p.server));
  CHECK(p.client.failed());
  CHECK_FALSE(p.client.peer_verified());
}

TEST_CASE("tls: a non-verifying client connects but reports the certificate as unverified") {
  TestCertificate cert("mail.example.test");
  Context server_ctx = cert.server_context();
  auto client_ctx = Context::client({});  // the system store does not know our certificate
  REQUIRE(client_ctx.has_value());
  Pair p = connect(server_ctx, *client_ctx, "mail.example.test");
  REQUIRE(pump(p.client, p.server));
  CHECK_FALSE(p.client.peer_verified());
  CHECK_FALSE(p.client.verify_error().empty());
}

TEST_CASE("tls: garbage instead of a ClientHello fails the handshake") {
  TestCertificate cert;
  Context server_ctx = cert.server_context();
  auto server = Engine::server(server_ctx);
  REQUIRE(server.has_value());
  CHECK_FALSE(server->feed("RSET\r\nQUIT\r\n").has_value());
  CHECK(server->failed());
}

TEST_CASE("tls: reload swaps the certificate for new connections only") {
  TestCertificate cert("first.example.test");
  Context server_ctx = cert.server_context();
  Context client_ctx = cert.client_context(false);
  Pair before = connect(server_ctx, client_ctx, "first.example.test");
  REQUIRE(pump(before.client, before.server));

  REQUIRE(generate_self_signed("second.example.test", cert.certificate, cert.key).has_value());
  REQUIRE(server_ctx.reload().has_value());

  // The old connection keeps working.
  REQUIRE(before.client.write("still here\r\n"));
  REQUIRE(pump(before.client, before.server));
  CHECK(before.server.take_plaintext() == "still here\r\n");

  // A new one gets the new certificate: verifying against it as CA succeeds for the new name.
  Context second_client = cert.client_context(true);
  Pair after = connect(server_ctx, second_client, "second.example.test");
  REQUIRE(pump(after.client, after.server));
  CHECK(after.client.peer_verified());
}

TEST_CASE("tls: a failed reload keeps the current certificate") {
  TestCertificate cert;
  Context server_ctx = cert.server_context();
  SSL_CTX* current = server_ctx.native();
  { std::ofstream(cert.key) << "not a key\n"; }
  CHECK_FALSE(server_ctx.reload().has_value());
  CHECK(server_ctx.native() == current);
  CHECK_FALSE(Context::client({}).value().reload().has_value());
}

TEST_CASE("tls: the SNI selector picks another context") {
  TestCertificate first("first.example.test");
  TestCertificate second("second.example.test");
  Context first_ctx = first.server_context();
  Context second_ctx = second.server_context();
  first_ctx.set_sni_selector([&](std::string_view name) -> const Context* {
    return name == "second.example.test" ? &second_ctx : nullptr;
  });
  Context client_ctx = second.client_context(true);
  Pair p = connect(first_ctx, client_ctx, "second.example.test");
  REQUIRE(pump(p.client, p.server));
  CHECK(p.client.peer_verified());
  CHECK(p.server.info().server_name == "second.example.test");
}

TEST_CASE("tls: a certificate that does not exist is an error naming it") {
  auto context = Context::server("/nonexistent/cert.pem", "/nonexistent/key.pem");
  REQUIRE_FALSE(context.has_value());
  CHECK(context.error().message.find("/nonexistent/cert.pem") != std::string::npos);
}

}  // namespace
}  // namespace chapar::tls
