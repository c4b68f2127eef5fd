// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/net/connection.hpp"

#include <algorithm>

#include "common/net/address.hpp"
#include "common/net/async_queue.hpp"
#include "common/net/server.hpp"
#include "common/tls/context.hpp"

namespace chapar::net {
namespace {

template <typename T>
uv_handle_t* as_handle(T* handle) {
  return reinterpret_cast<uv_handle_t*>(handle);
}

}  // namespace

Connection::Connection(Server& server, std::string id, const config::Listener& listener)
    : server_(server),
      id_(std::move(id)),
      logger_(server.logger().with({{"conn", id_}})),
      listener_{listener.name, listener.tls} {
  tcp_.data = this;
  idle_timer_.data = this;
}

Connection::~Connection() = default;

int Connection::init() {
  int rc = uv_tcp_init(server_.loop(), &tcp_);
  if (rc == 0) {
    tcp_open_ = true;
    ++open_handles_;
  }
  return rc;
}

bool Connection::read_peer() {
  sockaddr_storage address{};
  int length = sizeof address;
  if (uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return false;
  }
  auto peer = peer_from_sockaddr(reinterpret_cast<const sockaddr*>(&address));
  if (!peer) return false;
  peer_ = std::move(*peer);
  // Replies are collected per callback and written at once; Nagle would only delay them.
  uv_tcp_nodelay(&tcp_, 1);
  return true;
}

void Connection::open(const SessionFactory& factory) {
  opened_at_ = std::chrono::steady_clock::now();
  announced_ = true;
  logger_.info("connect",
               {{"ip", peer_.address}, {"port", peer_.port}, {"listener", listener_.name}});
  if (uv_timer_init(server_.loop(), &idle_timer_) == 0) {
    idle_open_ = true;
    ++open_handles_;
  }
  session_ = factory(*this);
  if (!session_) {
    abort_reason_ = "no_session";
  } else if (listener_.tls == TlsMode::kImplicit) {
    begin_tls_handshake();
  } else {
    state_ = State::kOpen;
    started_ = true;
    session_->start();
  }
  arm_idle();
  settle();
}

void Connection::refuse(std::string_view reason) {
  logger_.debug("refused", {{"ip", peer_.address}, {"reason", reason}});
  teardown(reason);
}

void Connection::begin_shutdown() {
  if (state_ == State::kOpen && live()) {
    session_->on_shutdown();
  } else if (state_ == State::kNew || state_ == State::kHandshake) {
    abort_reason_ = "shutdown";
  }
  settle();
}

void Connection::abort(std::string_view reason) {
  if (state_ == State::kClosed) return;
  abort_reason_ = reason;
  settle();
}

// --- SessionHost ---------------------------------------------------------------------------

void Connection::send(std::string_view bytes) {
  if (state_ == State::kClosed) return;
  out_.append(bytes);
}

size_t Connection::pending_output() const {
  size_t queued =
      tcp_open_ ? uv_stream_get_write_queue_size(reinterpret_cast<const uv_stream_t*>(&tcp_)) : 0;
  return out_.size() + queued;
}

void Connection::start_tls() {
  if (state_ != State::kOpen) return;
  if (engine_) {
    logger_.warning("starttls_refused", {{"reason", "already active"}});
    return;
  }
  if (server_.options().tls == nullptr) {
    logger_.error("tls_unavailable", {{"reason", "no certificate configured"}});
    abort_reason_ = "tls_unavailable";
    return;
  }
  tls_requested_ = true;
}

void Connection::close() {
  if (state_ != State::kClosed) close_requested_ = true;
}

void Connection::run_blocking(std::function<void()> work, std::function<void()> done) {
  if (state_ == State::kClosed) return;
  Work& item = work_.emplace_back();
  item.self = std::prev(work_.end());
  item.owner = this;
  item.work = std::move(work);
  item.done = std::move(done);
  item.req.data = &item;
  if (uv_queue_work(server_.loop(), &item.req, &Connection::on_work, &Connection::on_work_done) !=
      0) {
    logger_.error("queue_work_failed");
    work_.erase(item.self);
    return;
  }
  ++in_flight_;
}

LoopPoster Connection::begin_async() {
  if (state_ == State::kClosed) return [](std::function<void()>) {};
  ++in_flight_;
  auto token = std::make_shared<AsyncToken>(server_.async_queue_, this);
  return [token](std::function<void()> continuation) { token->complete(std::move(continuation)); };
}

void Connection::run_later(std::chrono::milliseconds delay, std::function<void()> fn) {
  if (state_ == State::kClosed) return;
  LaterTimer& timer = timers_.emplace_back();
  timer.self = std::prev(timers_.end());
  timer.owner = this;
  timer.fn = std::move(fn);
  timer.timer.data = &timer;
  if (uv_timer_init(server_.loop(), &timer.timer) != 0) {
    timers_.erase(timer.self);
    return;
  }
  ++open_handles_;
  uv_timer_start(&timer.timer, &Connection::on_later,
                 static_cast<uint64_t>(std::max<int64_t>(delay.count(), 0)), 0);
}

std::chrono::system_clock::time_point Connection::now() const {
  return std::chrono::system_clock::now();
}

void Connection::complete_async(std::function<void()> continuation) {
  --in_flight_;
  if (continuation && live()) continuation();
  settle();
}

// --- libuv callbacks -----------------------------------------------------------------------

void Connection::on_alloc(uv_handle_t* handle, size_t, uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(handle->data);
  std::vector<char>& buffer = self->server_.read_buffer_;
  *buf = uv_buf_init(buffer.data(), static_cast<unsigned>(buffer.size()));
}

void Connection::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* self = static_cast<Connection*>(stream->data);
  if (nread > 0) {
    self->received(std::string_view(buf->base, static_cast<size_t>(nread)));
  } else if (nread == UV_EOF) {
    self->peer_eof_ = true;
    self->close_reason_ = "peer_closed";
    // Answers to what the peer sent before closing its side still go out.
    if (self->pending_output() > 0) {
      if (self->state_ != State::kClosed) self->state_ = State::kClosing;
    } else {
      self->abort_reason_ = "peer_closed";
    }
  } else if (nread < 0) {
    self->abort_reason_ = std::string("read_error:") + uv_err_name(static_cast<int>(nread));
  }
  self->settle();
}

void Connection::on_write(uv_write_t* req, int status) {
  auto* request = static_cast<WriteRequest*>(req->data);
  Connection* self = request->owner;
  self->writes_.erase(request->self);
  if (status == 0) {
    if (self->state_ != State::kClosed) self->arm_idle();
    if (self->state_ == State::kOpen && self->live() &&
        self->pending_output() < self->server_.options().low_water_mark) {
      self->session_->on_writable();
    }
  } else if (status != UV_ECANCELED && self->state_ != State::kClosed) {
    self->abort_reason_ = std::string("write_error:") + uv_err_name(status);
  }
  self->settle();
}

void Connection::on_idle(uv_timer_t* timer) {
  auto* self = static_cast<Connection*>(timer->data);
  const bool open = self->state_ == State::kOpen && self->live();
  if (open && (self->in_flight_ > 0 || !self->timers_.empty())) {
    // The peer is waiting for us (a commit, a password check, a login delay), not idle.
    self->arm_idle();
  } else if (open && !self->idle_notified_) {
    // Give the session a last period to say goodbye; cut off after that.
    self->idle_notified_ = true;
    self->mid_record_ = false;
    self->logger_.info("idle_timeout");
    self->session_->on_idle_timeout();
    self->arm_idle();
  } else {
    self->abort_reason_ = "timeout";
  }
  self->settle();
}

void Connection::on_later(uv_timer_t* timer) {
  auto* item = static_cast<LaterTimer*>(timer->data);
  Connection* self = item->owner;
  std::function<void()> fn = std::move(item->fn);
  uv_close(as_handle(&item->timer), &Connection::on_later_closed);
  if (fn && self->live()) fn();
  self->settle();
}

void Connection::on_later_closed(uv_handle_t* handle) {
  auto* item = static_cast<LaterTimer*>(handle->data);
  Connection* self = item->owner;
  self->timers_.erase(item->self);
  --self->open_handles_;
  self->maybe_release();
}

void Connection::on_work(uv_work_t* req) {
  static_cast<Work*>(req->data)->work();
}

void Connection::on_work_done(uv_work_t* req, int status) {
  auto* item = static_cast<Work*>(req->data);
  Connection* self = item->owner;
  std::function<void()> done = std::move(item->done);
  self->work_.erase(item->self);
  --self->in_flight_;
  if (status == 0 && done && self->live()) done();
  self->settle();
}

void Connection::on_handle_closed(uv_handle_t* handle) {
  auto* self = static_cast<Connection*>(handle->data);
  --self->open_handles_;
  self->maybe_release();
}

// --- internals -----------------------------------------------------------------------------

void Connection::received(std::string_view bytes) {
  bytes_in_ += bytes.size();
  input_arrived_ = true;
  if (mid_record_) record_bytes_ += bytes.size();
  if (engine_) {
    received_tls(bytes);
  } else if (state_ == State::kOpen && live()) {
    session_->receive(bytes);
  }
}

void Connection::track_record() {
  if (state_ != State::kOpen || !live() || idle_notified_) return;
  const bool mid = session_->mid_record();
  if (mid && !mid_record_) {
    record_started_ = std::chrono::steady_clock::now();
    record_bytes_ = 0;
  }
  const bool changed = mid != mid_record_;
  mid_record_ = mid;
  if (changed || std::exchange(input_arrived_, false)) arm_idle();
}

void Connection::received_tls(std::string_view bytes) {
  bool was_established = engine_->handshake_done();
  Status fed = engine_->feed(bytes);
  write_raw(engine_->take_ciphertext());
  if (!fed) {
    logger_.info("tls_failed", {{"ip", peer_.address}, {"error", fed.error().message}});
    // Let the alert go out, then close.
    close_reason_ = "tls_error";
    state_ = State::kClosing;
    return;
  }
  if (!was_established && engine_->handshake_done()) tls_established();
  std::string plaintext = engine_->take_plaintext();
  if (!plaintext.empty() && state_ == State::kOpen && live()) session_->receive(plaintext);
  if (engine_->peer_closed() && state_ != State::kClosed) {
    peer_eof_ = true;
    close_reason_ = "peer_closed";
    if (state_ != State::kClosing) state_ = State::kClosing;
  }
}

void Connection::begin_tls_handshake() {
  tls::Context* context = server_.options().tls;
  if (context == nullptr) {
    logger_.error("tls_unavailable", {{"reason", "no certificate configured"}});
    abort_reason_ = "tls_unavailable";
    return;
  }
  auto engine = tls::Engine::server(*context);
  if (!engine) {
    logger_.error("tls_failed", {{"error", engine.error().message}});
    abort_reason_ = "tls_error";
    return;
  }
  engine_ = std::move(*engine);
  state_ = State::kHandshake;
  arm_idle();
}

void Connection::tls_established() {
  tls_info_ = engine_->info();
  logger_.info("tls", {{"version", tls_info_->version},
                       {"cipher", tls_info_->cipher},
                       {"bits", tls_info_->bits},
                       {"sni", tls_info_->server_name}});
  state_ = State::kOpen;
  if (!live()) return;
  if (started_) {
    session_->on_tls_started();
  } else {
    started_ = true;
    session_->start();
  }
}

void Connection::write_raw(std::string data) {
  if (data.empty() || !tcp_open_ || state_ == State::kClosed) return;
  bytes_out_ += data.size();
  WriteRequest& request = writes_.emplace_back();
  request.self = std::prev(writes_.end());
  request.owner = this;
  request.data = std::move(data);
  request.req.data = &request;
  uv_buf_t buf = uv_buf_init(request.data.data(), static_cast<unsigned>(request.data.size()));
  int rc = uv_write(&request.req, stream(), &buf, 1, &Connection::on_write);
  if (rc != 0) {
    writes_.erase(request.self);
    abort_reason_ = std::string("write_error:") + uv_err_name(rc);
  }
}

void Connection::flush() {
  if (out_.empty()) return;
  if (!engine_) {
    write_raw(std::exchange(out_, {}));
    return;
  }
  // Before the handshake completes the engine holds the plaintext back.
  Status written = engine_->write(out_);
  out_.clear();
  if (!written) {
    abort_reason_ = "tls_error";
    return;
  }
  write_raw(engine_->take_ciphertext());
}

void Connection::update_reading() {
  const config::ConnectionLimits& limits = server_.options().limits;
  bool want =
      (state_ == State::kOpen || state_ == State::kHandshake) && !peer_eof_ &&
      pending_output() <= limits.max_output_buffer / 2 &&
      !(state_ == State::kOpen && live() && session_->buffered_input() > limits.max_input_buffer);
  if (want && !reading_) {
    reading_ = uv_read_start(stream(), &Connection::on_alloc, &Connection::on_read) == 0;
  } else if (!want && reading_) {
    uv_read_stop(stream());
    reading_ = false;
  }
}

void Connection::arm_idle() {
  if (!idle_open_ || state_ == State::kClosed) return;
  const ServerOptions& options = server_.options();
  std::chrono::milliseconds timeout = options.handshake_timeout;
  if (state_ == State::kClosing || state_ == State::kTlsWait) {
    timeout = options.close_linger;
  } else if (state_ == State::kOpen && session_) {
    timeout = session_->idle_timeout();
    if (mid_record_) {
      // RFC 5321 §4.5.3.2 times each command and the whole of DATA, not each read: the
      // record's deadline runs from its start and grows only with the bytes that arrive.
      const auto earned = std::chrono::milliseconds(
          record_bytes_ * 1000 / std::max<uint32_t>(options.limits.min_data_rate, 1));
      const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - record_started_);
      timeout = timeout + earned - spent;
    }
  }
  uv_timer_start(&idle_timer_, &Connection::on_idle,
                 static_cast<uint64_t>(std::max<int64_t>(timeout.count(), 1)), 0);
}

void Connection::settle() {
  if (state_ == State::kClosed) {
    maybe_release();
    return;
  }
  if (abort_reason_.empty()) flush();
  if (!abort_reason_.empty()) {
    teardown(abort_reason_);
    maybe_release();
    return;
  }
  const size_t limit = server_.options().limits.max_output_buffer;
  if (pending_output() > limit) {
    logger_.warning("output_overflow", {{"ip", peer_.address}, {"pending", pending_output()}});
    teardown("output_overflow");
    return;
  }
  if (close_requested_ && state_ != State::kClosing) {
    close_requested_ = false;
    state_ = State::kClosing;
    arm_idle();
  }
  if (tls_requested_) {
    tls_requested_ = false;
    if (state_ == State::kOpen) {
      state_ = State::kTlsWait;
      arm_idle();
    }
  }
  // RFC 3207 §4.2: the handshake starts once the reply to STARTTLS is on its way. Reading
  // stays off until then, so that what the client sends next goes to the TLS engine.
  if (state_ == State::kTlsWait && pending_output() == 0) {
    begin_tls_handshake();
    if (!abort_reason_.empty()) {
      teardown(abort_reason_);
      return;
    }
  }
  if (state_ == State::kClosing && pending_output() == 0) {
    if (engine_ && engine_->handshake_done() && !engine_->failed() && !close_notify_sent_) {
      close_notify_sent_ = true;
      engine_->close();
      write_raw(engine_->take_ciphertext());
    }
    if (pending_output() == 0) {
      teardown(close_reason_);
      return;
    }
  }
  track_record();
  update_reading();
}

void Connection::close_handle(uv_handle_t* handle) {
  if (!uv_is_closing(handle)) uv_close(handle, &Connection::on_handle_closed);
}

void Connection::teardown(std::string_view reason) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  if (reading_) {
    uv_read_stop(stream());
    reading_ = false;
  }
  if (admitted_) {
    admitted_ = false;
    server_.admission_.release(peer_.address);
  }
  if (announced_) {
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - opened_at_);
    logger_.info("disconnect", {{"ip", peer_.address},
                                {"reason", reason},
                                {"duration_ms", elapsed.count()},
                                {"bytes_in", bytes_in_},
                                {"bytes_out", bytes_out_}});
  }
  out_.clear();
  if (session_) session_->on_disconnect();
  for (LaterTimer& timer : timers_) {
    if (!uv_is_closing(as_handle(&timer.timer))) {
      uv_close(as_handle(&timer.timer), &Connection::on_later_closed);
    }
  }
  // Work that has not started yet is not started at all.
  for (Work& item : work_) uv_cancel(reinterpret_cast<uv_req_t*>(&item.req));
  if (idle_open_) close_handle(as_handle(&idle_timer_));
  if (tcp_open_) close_handle(as_handle(&tcp_));
  if (in_flight_ == 0) session_.reset();
}

void Connection::maybe_release() {
  if (state_ != State::kClosed || in_flight_ > 0) return;
  session_.reset();
  if (open_handles_ > 0 || !writes_.empty() || !work_.empty()) return;
  server_.connection_done(*this);  // frees this
}

}  // namespace chapar::net
