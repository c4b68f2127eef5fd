// SPDX-License-Identifier: AGPL-3.0-or-later
// An OpenSSL SSL_CTX with Chapar's policy: TLS 1.2 and 1.3 only, the Mozilla "intermediate"
// cipher list with the server's preference, no compression, no renegotiation. A server
// context is built from a PEM certificate chain and key and can re-read them (SIGHUP):
// connections already open keep the SSL_CTX they started with, new ones get the new one.
// A client context (outbound SMTP, tests) optionally verifies the peer against a CA file or
// the system store.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

#include "common/result.hpp"

struct ssl_ctx_st;
using SSL_CTX = ssl_ctx_st;

namespace chapar::tls {

class Context;

// Picks the context for the server name a client asked for (SNI, RFC 6066 §3), or nullptr to
// keep the default. Runs on the thread doing the handshake.
using SniSelector = std::function<const Context*(std::string_view server_name)>;

struct ClientOptions {
  // Fail the handshake unless the peer's certificate chains to a trusted root and matches the
  // host name given to Engine::client().
  bool verify_peer = false;
  // Trusted roots in PEM; empty: the system store.
  std::filesystem::path ca_file;
};

class Context {
 public:
  enum class Mode { kServer, kClient };

  // Loads `certificate` (PEM, leaf first, then intermediates) and its private `key`.
  static Result<Context> server(const std::filesystem::path& certificate,
                                const std::filesystem::path& key);
  static Result<Context> client(const ClientOptions& options = {});

  Context(Context&&) noexcept;
  Context& operator=(Context&&) noexcept;
  ~Context();

  Mode mode() const;
  // Server mode: re-reads the certificate and key. On failure the current ones stay in use.
  Status reload();
  // Server mode: installs the SNI hook, kept across reloads.
  void set_sni_selector(SniSelector selector);

  // The SSL_CTX for a new connection. Valid until the next reload() or destruction; SSL
  // objects made from it hold their own reference.
  SSL_CTX* native() const;

 private:
  struct State;
  explicit Context(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace chapar::tls
