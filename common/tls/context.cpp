// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/tls/context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/tls/openssl_error.hpp"

namespace chapar::tls {
namespace {

// Mozilla "intermediate" configuration (v5.7): forward secrecy and AEAD ciphers only.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";
constexpr const char* kTls13Ciphers =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* kGroups = "X25519:P-256:P-384";

struct CtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxFree>;

Result<CtxPtr> new_ctx(const SSL_METHOD* method) {
  ERR_clear_error();
  CtxPtr ctx(SSL_CTX_new(method));
  if (!ctx) return openssl_failure(Errc::kInternal, "SSL_CTX_new");
  // RFC 8996: TLS 1.0 and 1.1 are deprecated; RFC 9325 §3.1.1 recommends 1.2 and 1.3.
  if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(ctx.get(), kTls12Ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(ctx.get(), kTls13Ciphers) != 1 ||
      SSL_CTX_set1_groups_list(ctx.get(), kGroups) != 1) {
    return openssl_failure(Errc::kInternal, "TLS policy");
  }
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  // Idle connections (IMAP IDLE) should not hold 34 KB of TLS buffers each.
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_RELEASE_BUFFERS);
  return ctx;
}

}  // namespace

struct Context::State {
  Mode mode = Mode::kServer;
  CtxPtr ctx;
  std::filesystem::path certificate;
  std::filesystem::path key;
  SniSelector sni;

  static int on_server_name(SSL* ssl, int* /*alert*/, void* arg) {
    const auto* self = static_cast<const State*>(arg);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (name == nullptr || !self->sni) return SSL_TLSEXT_ERR_OK;
    const Context* chosen = self->sni(name);
    if (chosen != nullptr && chosen->native() != SSL_get_SSL_CTX(ssl)) {
      SSL_set_SSL_CTX(ssl, chosen->native());
    }
    return SSL_TLSEXT_ERR_OK;
  }

  Result<CtxPtr> load_server() {
    auto ctx = new_ctx(TLS_server_method());
    if (!ctx) return Unexpected{ctx.error()};
    SSL_CTX* raw = ctx->get();
    SSL_CTX_set_options(raw, SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_dh_auto(raw, 1);
    if (SSL_CTX_use_certificate_chain_file(raw, certificate.c_str()) != 1) {
      return openssl_failure(Errc::kInvalidArgument,
                             "cannot load certificate " + certificate.string());
    }
    if (SSL_CTX_use_PrivateKey_file(raw, key.c_str(), SSL_FILETYPE_PEM) != 1) {
      return openssl_failure(Errc::kInvalidArgument, "cannot load key " + key.string());
    }
    if (SSL_CTX_check_private_key(raw) != 1) {
      return openssl_failure(Errc::kInvalidArgument,
                             "key " + key.string() + " does not match " + certificate.string());
    }
    SSL_CTX_set_tlsext_servername_callback(raw, &State::on_server_name);
    SSL_CTX_set_tlsext_servername_arg(raw, this);
    return ctx;
  }
};

Context::Context(std::unique_ptr<State> state) : state_(std::move(state)) {}
Context::Context(Context&&) noexcept = default;
Context& Context::operator=(Context&&) noexcept = default;
Context::~Context() = default;

Result<Context> Context::server(const std::filesystem::path& certificate,
                                const std::filesystem::path& key) {
  auto state = std::make_unique<State>();
  state->mode = Mode::kServer;
  state->certificate = certificate;
  state->key = key;
  auto ctx = state->load_server();
  if (!ctx) return Unexpected{ctx.error()};
  state->ctx = std::move(*ctx);
  return Context(std::move(state));
}

Result<Context> Context::client(const ClientOptions& options) {
  auto ctx = new_ctx(TLS_client_method());
  if (!ctx) return Unexpected{ctx.error()};
  SSL_CTX* raw = ctx->get();
  int loaded = options.ca_file.empty()
                   ? SSL_CTX_set_default_verify_paths(raw)
                   : SSL_CTX_load_verify_locations(raw, options.ca_file.c_str(), nullptr);
  if (loaded != 1) {
    return openssl_failure(Errc::kInvalidArgument,
                           "cannot load trusted certificates " + options.ca_file.string());
  }
  // Without verify_peer the chain is still checked so that peer_verified() can be logged, but
  // a failure does not stop the handshake (opportunistic TLS, RFC 7435).
  SSL_CTX_set_verify(raw, options.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  auto state = std::make_unique<State>();
  state->mode = Mode::kClient;
  state->ctx = std::move(*ctx);
  return Context(std::move(state));
}

Context::Mode Context::mode() const {
  return state_->mode;
}

Status Context::reload() {
  if (state_->mode != Mode::kServer) {
    return fail(Errc::kInvalidArgument, "only a server context can be reloaded");
  }
  auto ctx = state_->load_server();
  if (!ctx) return Unexpected{ctx.error()};
  state_->ctx = std::move(*ctx);
  return {};
}

void Context::set_sni_selector(SniSelector selector) {
  state_->sni = std::move(selector);
}

SSL_CTX* Context::native() const {
  return state_->ctx.get();
}

}  // namespace chapar::tls
