// SPDX-License-Identifier: AGPL-3.0-or-later
#include "smtpd/outbound/transport.hpp"

#include <fmt/format.h>

#include <utility>

#include "common/tls/context.hpp"

namespace chapar::smtp::outbound {

Transport* Transport::start(uv_loop_t* loop, TransportOptions options, ClientSession session,
                            log::Logger logger, Done done) {
  auto owned = std::make_unique<Transport>(loop, std::move(options), std::move(session),
                                           std::move(logger), std::move(done));
  Transport* transport = owned.get();
  transport->self_ = std::move(owned);
  transport->begin();
  return transport;
}

Transport::Transport(uv_loop_t* loop, TransportOptions options, ClientSession session,
                     log::Logger logger, Done done)
    : loop_(loop),
      options_(std::move(options)),
      session_(std::move(session)),
      logger_(std::move(logger)),
      done_(std::move(done)) {}

void Transport::begin() {
  uv_tcp_init(loop_, &socket_);
  uv_timer_init(loop_, &timer_);
  socket_.data = this;
  timer_.data = this;
  connect_req_.data = this;
  open_handles_ = 2;

  sockaddr_storage address{};
  const std::string& ip = options_.address;
  int rc = ip.find(':') == std::string::npos
               ? uv_ip4_addr(ip.c_str(), options_.port, reinterpret_cast<sockaddr_in*>(&address))
               : uv_ip6_addr(ip.c_str(), options_.port, reinterpret_cast<sockaddr_in6*>(&address));
  if (rc == 0) {
    rc = uv_tcp_connect(&connect_req_, &socket_, reinterpret_cast<const sockaddr*>(&address),
                        &Transport::on_connect);
  }
  if (rc != 0) {
    // Reported from the close callbacks, never from inside start().
    lose(fmt::format("cannot connect to {}[{}]:{}: {}", options_.host_name, ip, options_.port,
                     uv_strerror(rc)));
    return;
  }
  arm_timer(options_.connect_timeout);
}

void Transport::on_connect(uv_connect_t* req, int status) {
  auto* self = static_cast<Transport*>(req->data);
  if (status == UV_ECANCELED || self->closing_) return;
  if (status < 0) {
    self->lose(fmt::format("cannot connect to {}[{}]:{}: {}", self->options_.host_name,
                           self->options_.address, self->options_.port, uv_strerror(status)));
    return;
  }
  self->connected();
}

void Transport::connected() {
  connected_ = true;
  logger_.debug(
      "outbound_connected",
      {{"host", options_.host_name}, {"address", options_.address}, {"port", options_.port}});
  int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&socket_), &Transport::on_alloc,
                         &Transport::on_read);
  if (rc != 0) return lose(fmt::format("read failed: {}", uv_strerror(rc)));
  if (options_.implicit_tls) start_tls();
  if (closing_) return;
  arm_timer(session_.timeout());
}

void Transport::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* self = static_cast<Transport*>(handle->data);
  *buf = uv_buf_init(self->read_buffer_, sizeof self->read_buffer_);
}

void Transport::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<Transport*>(stream->data);
  if (self->closing_) return;
  if (nread > 0) {
    self->received(std::string_view(buf->base, static_cast<size_t>(nread)));
  } else if (nread == UV_EOF) {
    self->lose(fmt::format("connection closed by {}[{}]", self->options_.host_name,
                           self->options_.address));
  } else if (nread < 0) {
    self->lose(fmt::format("connection with {}[{}] failed: {}", self->options_.host_name,
                           self->options_.address, uv_strerror(static_cast<int>(nread))));
  }
}

void Transport::received(std::string_view bytes) {
  if (!engine_) {
    session_.receive(bytes);
    return pump();
  }
  Status fed = engine_->feed(bytes);
  write_raw(engine_->take_ciphertext());
  if (!fed || engine_->failed()) {
    std::string detail = engine_->verify_error();
    return lose(
        fmt::format("TLS with {}[{}] failed: {}", options_.host_name, options_.address,
                    detail.empty() ? (fed ? "handshake failed" : fed.error().message) : detail));
  }
  if (!handshake_reported_ && engine_->handshake_done()) {
    handshake_reported_ = true;
    net::TlsInfo info = engine_->info();
    logger_.info("outbound_tls", {{"host", options_.host_name},
                                  {"address", options_.address},
                                  {"version", info.version},
                                  {"cipher", info.cipher},
                                  {"verified", engine_->peer_verified()}});
    session_.tls_started(engine_->peer_verified());
  }
  std::string plaintext = engine_->take_plaintext();
  if (!plaintext.empty()) session_.receive(plaintext);
  if (engine_->peer_closed() && !session_.done()) {
    return lose(fmt::format("connection closed by {}[{}]", options_.host_name, options_.address));
  }
  pump();
}

void Transport::pump() {
  while (!closing_) {
    std::string out = session_.take_output();
    if (!out.empty()) write_plain(out);
    if (closing_) return;
    if (session_.take_tls_request()) start_tls();
    if (!session_.sending_data() || unsent_ >= options_.high_water) break;
  }
  if (closing_) return;
  if (session_.done()) return maybe_close_after_writes();
  arm_timer(session_.timeout());
}

void Transport::write_plain(std::string_view bytes) {
  if (!engine_) return write_raw(std::string(bytes));
  // Before the handshake completes the engine holds plaintext back.
  if (Status written = engine_->write(bytes); !written) {
    return lose(fmt::format("TLS write failed: {}", written.error().message));
  }
  write_raw(engine_->take_ciphertext());
}

void Transport::write_raw(std::string data) {
  if (data.empty() || closing_) return;
  auto request = std::make_unique<WriteRequest>();
  request->data = std::move(data);
  request->owner = this;
  request->req.data = request.get();
  uv_buf_t buf = uv_buf_init(request->data.data(), static_cast<unsigned>(request->data.size()));
  int rc = uv_write(&request->req, reinterpret_cast<uv_stream_t*>(&socket_), &buf, 1,
                    &Transport::on_write);
  if (rc != 0) return lose(fmt::format("write failed: {}", uv_strerror(rc)));
  unsent_ += request->data.size();
  ++writes_in_flight_;
  request.release();  // reclaimed in on_write
}

void Transport::on_write(uv_write_t* req, int status) {
  std::unique_ptr<WriteRequest> request(static_cast<WriteRequest*>(req->data));
  Transport* self = request->owner;
  self->unsent_ -= request->data.size();
  --self->writes_in_flight_;
  if (self->closing_ || status == UV_ECANCELED) return;
  if (status < 0) {
    return self->lose(fmt::format("write to {}[{}] failed: {}", self->options_.host_name,
                                  self->options_.address, uv_strerror(status)));
  }
  if (self->session_.done()) return self->maybe_close_after_writes();
  if (self->session_.sending_data()) self->pump();
}

void Transport::start_tls() {
  if (options_.tls == nullptr) return lose("TLS is not available: no client context");
  auto engine = tls::Engine::client(*options_.tls, options_.host_name);
  if (!engine) return lose(fmt::format("TLS could not start: {}", engine.error().message));
  engine_ = std::move(*engine);
  write_raw(engine_->take_ciphertext());
}

void Transport::arm_timer(std::chrono::milliseconds timeout) {
  if (closing_) return;
  uv_timer_start(&timer_, &Transport::on_timer, static_cast<uint64_t>(timeout.count()), 0);
}

void Transport::on_timer(uv_timer_t* timer) {
  auto* self = static_cast<Transport*>(timer->data);
  if (self->closing_) return;
  if (!self->connected_) {
    return self->lose(fmt::format("connection to {}[{}]:{} timed out", self->options_.host_name,
                                  self->options_.address, self->options_.port));
  }
  if (self->session_.done()) return self->close();  // output that never drained
  self->session_.timed_out();
  self->close();
}

void Transport::maybe_close_after_writes() {
  if (writes_in_flight_ > 0 || closing_) return;
  if (engine_ && engine_->handshake_done() && !engine_->failed() && !tls_closed_) {
    // RFC 8446 §6.1: close_notify before closing the connection.
    tls_closed_ = true;
    engine_->close();
    write_raw(engine_->take_ciphertext());
    if (writes_in_flight_ > 0) return;
  }
  close();
}

void Transport::abort(std::string_view why) {
  lose(why);
}

void Transport::lose(std::string_view why) {
  if (closing_) return;
  session_.connection_lost(why);
  close();
}

void Transport::close() {
  if (closing_) return;
  closing_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&socket_), &Transport::on_close);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), &Transport::on_close);
}

void Transport::on_close(uv_handle_t* handle) {
  auto* self = static_cast<Transport*>(handle->data);
  if (--self->open_handles_ > 0) return;
  std::unique_ptr<Transport> owned = std::move(self->self_);
  if (!owned->session_.done()) owned->session_.connection_lost("connection closed");
  Done done = std::move(owned->done_);
  SessionResult result = owned->session_.result();
  owned.reset();
  done(std::move(result));
}

}  // namespace chapar::smtp::outbound
