// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/tls/engine.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/tls/context.hpp"
#include "common/tls/openssl_error.hpp"

namespace chapar::tls {
namespace {

bool is_ip_literal(const std::string& host) {
  unsigned char buffer[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

}  // namespace

void Engine::SslFree::operator()(SSL* ssl) const {
  SSL_free(ssl);
}

Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;
Engine::~Engine() = default;

Result<Engine> Engine::make(SSL_CTX* context, bool server) {
  ERR_clear_error();
  Engine engine;
  engine.ssl_.reset(SSL_new(context));
  if (!engine.ssl_) return openssl_failure(Errc::kInternal, "SSL_new");
  BIO* read_bio = BIO_new(BIO_s_mem());
  BIO* write_bio = BIO_new(BIO_s_mem());
  if (read_bio == nullptr || write_bio == nullptr) {
    BIO_free(read_bio);
    BIO_free(write_bio);
    return openssl_failure(Errc::kInternal, "BIO_new");
  }
  SSL_set_bio(engine.ssl_.get(), read_bio, write_bio);
  engine.read_bio_ = read_bio;
  engine.write_bio_ = write_bio;
  if (server) {
    SSL_set_accept_state(engine.ssl_.get());
  } else {
    SSL_set_connect_state(engine.ssl_.get());
  }
  return engine;
}

Result<Engine> Engine::server(const Context& context) {
  return server(context.native());
}

Result<Engine> Engine::server(SSL_CTX* context) {
  return make(context, true);
}

Result<Engine> Engine::client(const Context& context, std::string_view host_name) {
  return client(context.native(), host_name);
}

Result<Engine> Engine::client(SSL_CTX* context, std::string_view host_name) {
  auto engine = make(context, false);
  if (!engine) return engine;
  SSL* ssl = engine->ssl_.get();
  if (!host_name.empty()) {
    std::string host(host_name);
    // RFC 6066 §3: literal IP addresses are not permitted in SNI.
    if (is_ip_literal(host)) {
      if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) != 1) {
        return openssl_failure(Errc::kInvalidArgument, "bad address " + host);
      }
    } else if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1 ||
               SSL_set1_host(ssl, host.c_str()) != 1) {
      return openssl_failure(Errc::kInvalidArgument, "bad host name " + host);
    }
  }
  if (Status started = engine->advance(); !started) return Unexpected{started.error()};
  return engine;
}

Status Engine::feed(std::string_view ciphertext) {
  if (failed_) return fail(Errc::kIo, "TLS connection already failed");
  if (!ciphertext.empty() &&
      BIO_write(read_bio_, ciphertext.data(), static_cast<int>(ciphertext.size())) <= 0) {
    failed_ = true;
    return openssl_failure(Errc::kInternal, "BIO_write");
  }
  return advance();
}

std::string Engine::take_plaintext() {
  std::string out;
  out.swap(plaintext_);
  return out;
}

Status Engine::write(std::string_view plaintext) {
  if (failed_) return fail(Errc::kIo, "TLS connection already failed");
  if (closed_ || plaintext.empty()) return {};
  held_back_.append(plaintext);
  if (!handshake_done_) return {};
  return advance();
}

std::string Engine::take_ciphertext() {
  std::string out;
  out.swap(ciphertext_);
  return out;
}

void Engine::close() {
  if (closed_ || failed_) return;
  closed_ = true;
  held_back_.clear();
  if (!handshake_done_) return;
  ERR_clear_error();
  SSL_shutdown(ssl_.get());
  ERR_clear_error();
  collect_output();
}

Status Engine::advance() {
  SSL* ssl = ssl_.get();
  ERR_clear_error();
  if (!handshake_done_) {
    int rc = SSL_do_handshake(ssl);
    if (rc != 1) {
      int error = SSL_get_error(ssl, rc);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
        collect_output();
        return {};
      }
      return fail_with("TLS handshake failed", error);
    }
    handshake_done_ = true;
  }
  if (!held_back_.empty() && !closed_) {
    // A memory BIO never refuses output, so SSL_write takes everything at once.
    int rc = SSL_write(ssl, held_back_.data(), static_cast<int>(held_back_.size()));
    if (rc <= 0) return fail_with("TLS write failed", SSL_get_error(ssl, rc));
    held_back_.clear();
  }
  char buffer[16 * 1024];
  while (!peer_closed_) {
    int n = SSL_read(ssl, buffer, sizeof buffer);
    if (n > 0) {
      plaintext_.append(buffer, static_cast<size_t>(n));
      continue;
    }
    int error = SSL_get_error(ssl, n);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) break;
    if (error == SSL_ERROR_ZERO_RETURN) {
      peer_closed_ = true;
      break;
    }
    return fail_with("TLS read failed", error);
  }
  collect_output();
  return {};
}

Status Engine::fail_with(std::string_view what, int ssl_error) {
  failed_ = true;
  std::string message = drain_openssl_errors(what);
  if (ssl_error == SSL_ERROR_SYSCALL && message == what) message += ": unexpected end of input";
  long verify = SSL_get_verify_result(ssl_.get());
  if (verify != X509_V_OK && !SSL_is_server(ssl_.get())) {
    message += " (";
    message += X509_verify_cert_error_string(verify);
    message += ')';
  }
  collect_output();
  return fail(Errc::kIo, std::move(message));
}

void Engine::collect_output() {
  char buffer[16 * 1024];
  for (;;) {
    int n = BIO_read(write_bio_, buffer, sizeof buffer);
    if (n <= 0) break;
    ciphertext_.append(buffer, static_cast<size_t>(n));
  }
}

net::TlsInfo Engine::info() const {
  net::TlsInfo info;
  SSL* ssl = ssl_.get();
  info.version = SSL_get_version(ssl);
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl)) {
    info.cipher = SSL_CIPHER_get_name(cipher);
    info.bits = SSL_CIPHER_get_bits(cipher, nullptr);
  }
  if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) {
    info.server_name = name;
  }
  return info;
}

bool Engine::peer_verified() const {
  X509* peer = SSL_get0_peer_certificate(ssl_.get());
  return peer != nullptr && SSL_get_verify_result(ssl_.get()) == X509_V_OK;
}

std::string Engine::verify_error() const {
  if (SSL_get0_peer_certificate(ssl_.get()) == nullptr) return "no peer certificate";
  long verify = SSL_get_verify_result(ssl_.get());
  if (verify == X509_V_OK) return {};
  return X509_verify_cert_error_string(verify);
}

}  // namespace chapar::tls
