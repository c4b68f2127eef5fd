// SPDX-License-Identifier: AGPL-3.0-or-later
// One TLS connection driven through memory BIOs: the owner moves bytes between the network
// and the engine, so the same code serves implicit TLS, a STARTTLS upgrade (RFC 3207, RFC
// 2595) and outbound SMTP, on any event loop or none (tests pump two engines into each other).
//
//   network → feed(ciphertext) → take_plaintext() → protocol
//   protocol → write(plaintext) → take_ciphertext() → network
//
// After every feed() or write() the owner sends take_ciphertext(): the handshake produces
// output of its own. Not thread-safe; one engine per connection.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/net/session.hpp"
#include "common/result.hpp"

struct ssl_st;
using SSL = ssl_st;
struct ssl_ctx_st;
using SSL_CTX = ssl_ctx_st;
struct bio_st;
using BIO = bio_st;

namespace chapar::tls {

class Context;

class Engine {
 public:
  // The accepting side, with the context's current certificate.
  static Result<Engine> server(const Context& context);
  static Result<Engine> server(SSL_CTX* context);
  // The connecting side. `host_name` is sent as SNI (unless it is an IP literal) and is what
  // the certificate must match; the ClientHello is ready in take_ciphertext() on return.
  static Result<Engine> client(const Context& context, std::string_view host_name = {});
  static Result<Engine> client(SSL_CTX* context, std::string_view host_name = {});

  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;
  ~Engine();

  // Ciphertext from the peer: advances the handshake and decrypts what is complete. An error
  // (handshake refused, corrupt record) leaves the engine failed; take_ciphertext() may still
  // hold an alert worth sending before closing.
  Status feed(std::string_view ciphertext);
  // Plaintext decrypted so far, moved out.
  std::string take_plaintext();
  bool has_plaintext() const { return !plaintext_.empty(); }

  // Encrypts plaintext for the peer; before the handshake completes it is held back and sent
  // as soon as it does.
  Status write(std::string_view plaintext);
  // Ciphertext to send to the peer, moved out.
  std::string take_ciphertext();
  bool has_ciphertext() const { return !ciphertext_.empty(); }

  // Sends close_notify (RFC 8446 §6.1). Further writes are ignored.
  void close();

  bool handshake_done() const { return handshake_done_; }
  bool failed() const { return failed_; }
  // The peer sent close_notify: no more plaintext will come.
  bool peer_closed() const { return peer_closed_; }

  // Version, cipher and SNI; meaningful once handshake_done().
  net::TlsInfo info() const;
  // Client side: the peer's certificate chains to a trusted root and matches the host name.
  bool peer_verified() const;
  // Why verification failed ("certificate has expired"), or empty.
  std::string verify_error() const;

 private:
  struct SslFree {
    void operator()(SSL* ssl) const;
  };

  Engine() = default;
  static Result<Engine> make(SSL_CTX* context, bool server);
  Status advance();
  Status fail_with(std::string_view what, int ssl_error);
  void collect_output();

  std::unique_ptr<SSL, SslFree> ssl_;
  BIO* read_bio_ = nullptr;   // owned by ssl_
  BIO* write_bio_ = nullptr;  // owned by ssl_
  std::string plaintext_;
  std::string ciphertext_;
  std::string held_back_;  // written before the handshake completed
  bool handshake_done_ = false;
  bool failed_ = false;
  bool peer_closed_ = false;
  bool closed_ = false;
};

}  // namespace chapar::tls
