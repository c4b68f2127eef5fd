// SPDX-License-Identifier: AGPL-3.0-or-later
// One accepted TCP connection: the SessionHost that carries a ProtocolSession for the
// Server (net/server.hpp describes the behaviour). Internal to the server.
//
// Lifetime: the object lives in the server's list at a fixed address (libuv holds pointers
// to its handles). It is torn down (session told, socket closed) when the peer goes, the
// session closes, or a limit is hit; it is freed only after libuv has called back for every
// handle and request it owned and every operation in flight has completed. The session is
// destroyed as soon as no operation in flight can still use it.
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include "common/config.hpp"
#include "common/log.hpp"
#include "common/net/session.hpp"
#include "common/tls/engine.hpp"

namespace chapar::net {

class Server;

class Connection final : public SessionHost {
 public:
  Connection(Server& server, std::string id, const config::Listener& listener);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Initialises the socket handle; then the server uv_accept()s into stream().
  int init();
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }
  // Reads the peer's address after accepting. False when the socket is already unusable.
  bool read_peer();
  // Creates the session and starts the conversation (or the implicit TLS handshake).
  void open(const SessionFactory& factory);
  // Closes a connection that was never opened (refused by a limit, or during shutdown).
  void refuse(std::string_view reason);
  // The daemon is stopping: the session finishes and closes.
  void begin_shutdown();
  // Closes now, whatever the session is doing.
  void abort(std::string_view reason);

  bool closed() const { return state_ == State::kClosed; }
  const std::string& id() const { return id_; }
  // Called from the server's async handle on the loop thread.
  void complete_async(std::function<void()> continuation);

  // SessionHost
  void send(std::string_view bytes) override;
  size_t pending_output() const override;
  void start_tls() override;
  void close() override;
  void run_blocking(std::function<void()> work, std::function<void()> done) override;
  LoopPoster begin_async() override;
  void run_later(std::chrono::milliseconds delay, std::function<void()> fn) override;
  const PeerInfo& peer() const override { return peer_; }
  const ListenerInfo& listener() const override { return listener_; }
  const std::optional<TlsInfo>& tls() const override { return tls_info_; }
  std::chrono::system_clock::time_point now() const override;
  log::Logger& logger() override { return logger_; }

 private:
  enum class State {
    kNew,        // accepted, no session yet
    kHandshake,  // TLS handshake in progress (implicit TLS or after STARTTLS)
    kOpen,       // the session converses
    kTlsWait,    // STARTTLS accepted: writing what is queued before the handshake
    kClosing,    // the session closed: writing what is queued before closing
    kClosed,     // torn down; waiting for libuv and operations in flight
  };

  struct WriteRequest {
    uv_write_t req{};
    std::string data;
    Connection* owner = nullptr;
    std::list<WriteRequest>::iterator self;
  };
  struct LaterTimer {
    uv_timer_t timer{};
    std::function<void()> fn;
    Connection* owner = nullptr;
    std::list<LaterTimer>::iterator self;
  };
  struct Work {
    uv_work_t req{};
    std::function<void()> work;
    std::function<void()> done;
    Connection* owner = nullptr;
    std::list<Work>::iterator self;
  };

  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_idle(uv_timer_t* timer);
  static void on_later(uv_timer_t* timer);
  static void on_work(uv_work_t* req);
  static void on_work_done(uv_work_t* req, int status);
  static void on_handle_closed(uv_handle_t* handle);
  static void on_later_closed(uv_handle_t* handle);

  void received(std::string_view bytes);
  void received_tls(std::string_view bytes);
  void begin_tls_handshake();
  void tls_established();
  void write_raw(std::string data);
  void flush();
  void update_reading();
  void arm_idle();
  // Follows the session's mid_record() after each callback and restarts the timeout when
  // input arrived outside a record or a record began or ended.
  void track_record();
  // Runs after every callback that may have called into the session: writes its output,
  // applies what it asked for (close, STARTTLS), re-evaluates reading. May free `this`, so it
  // is always the last thing a callback does.
  void settle();
  void teardown(std::string_view reason);
  void close_handle(uv_handle_t* handle);
  void maybe_release();
  bool live() const { return state_ != State::kClosed && session_ != nullptr; }

  friend class Server;
  std::list<Connection>::iterator self_;  // position in the server's list
  bool admitted_ = false;                 // counted by the server's Admission

  Server& server_;
  std::string id_;
  log::Logger logger_;
  PeerInfo peer_;
  ListenerInfo listener_;
  std::unique_ptr<ProtocolSession> session_;
  State state_ = State::kNew;

  uv_tcp_t tcp_{};
  uv_timer_t idle_timer_{};
  bool tcp_open_ = false;
  bool idle_open_ = false;
  size_t open_handles_ = 0;
  std::list<WriteRequest> writes_;
  std::list<LaterTimer> timers_;
  std::list<Work> work_;
  size_t in_flight_ = 0;  // blocking work and asynchronous operations not yet completed

  std::optional<tls::Engine> engine_;
  std::optional<TlsInfo> tls_info_;
  bool tls_requested_ = false;
  bool close_requested_ = false;
  bool close_notify_sent_ = false;
  bool reading_ = false;
  bool peer_eof_ = false;
  bool idle_notified_ = false;
  bool input_arrived_ = false;  // input since the last track_record()
  bool mid_record_ = false;     // the session's mid_record() when last asked
  std::chrono::steady_clock::time_point record_started_;
  uint64_t record_bytes_ = 0;  // received since record_started_
  bool started_ = false;       // session.start() has been called
  bool announced_ = false;     // the connect line was logged
  std::string abort_reason_;
  std::string out_;  // plaintext queued by the session during the current callback
  std::string close_reason_ = "closed";

  std::chrono::steady_clock::time_point opened_at_;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
};

}  // namespace chapar::net
