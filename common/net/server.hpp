// SPDX-License-Identifier: AGPL-3.0-or-later
// The libuv adapter shared by the three daemons: TCP listeners (IPv4 and IPv6), and for each
// accepted connection a SessionHost that feeds a ProtocolSession (net/session.hpp).
//
// What the server does for every session, so that no protocol has to:
// - TLS through tls::Engine: implicit TLS listeners handshake before start(); start_tls()
//   upgrades after the queued output is written (RFC 3207 §4.2, RFC 2595 §3.1).
// - Output is collected during each callback and written once at its end.
// - Back-pressure: reading stops while the peer has more than max_output_buffer/2 unread or
//   the session has more than max_input_buffer unprocessed, and resumes when both fall; a
//   peer whose unread output passes max_output_buffer is disconnected.
// - Idle timeout from session.idle_timeout(), re-armed by input and by output progress; a
//   session that does not close after on_idle_timeout() is cut off one timeout later.
// - Connection limits (config::ConnectionLimits); refused connections are closed at once.
// - Graceful shutdown: stop accepting, on_shutdown() to every session, cut off whatever is
//   left after the grace period.
// - One log line at connect and at disconnect (with the reason), the connection id on every
//   line the session logs.
//
// Threading: everything runs on the loop thread except the posters returned by begin_async()
// and the work given to run_blocking().
#pragma once

#include <uv.h>

#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/log.hpp"
#include "common/net/admission.hpp"
#include "common/net/session.hpp"
#include "common/result.hpp"

namespace chapar::tls {
class Context;
}

namespace chapar::net {

class Connection;
struct AsyncQueue;

struct ServerOptions {
  config::ConnectionLimits limits;
  // Needed by implicit TLS listeners and by sessions that call start_tls(); not owned, and
  // may be reloaded between connections.
  tls::Context* tls = nullptr;
  // After shutdown(), how long sessions may take to finish before they are cut off.
  std::chrono::milliseconds shutdown_grace{4000};
  // on_writable() is called when unwritten output falls below this.
  size_t low_water_mark = 64 * 1024;
  // How long a TLS handshake may take, and how long a closing connection may take to accept
  // its last output, before it is cut off. Otherwise the session's idle_timeout() applies.
  std::chrono::milliseconds handshake_timeout{60000};
  std::chrono::milliseconds close_linger{30000};
};

class Server {
 public:
  // The loop must outlive the server; all calls are made on the loop's thread.
  Server(uv_loop_t* loop, ServerOptions options, log::Logger logger);
  // Must not run inside a loop callback. Connections still open are cut off, and the loop is
  // run until the server's handles are closed.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens on each; connections wait in the backlog until start() and the loop
  // runs, so privileged ports can be bound before dropping root. "::" is dual-stack unless
  // "0.0.0.0" is also given with the same port.
  Status listen(const std::vector<config::Listener>& listeners);
  // The listeners, each with the port actually bound (port 0 picks a free one).
  std::vector<config::Listener> listeners() const;

  // Accepts connections from now on, each with a session from `factory`.
  void start(SessionFactory factory);

  // Stops accepting and asks every session to finish (on_shutdown()); cuts off what remains
  // after the grace period. `done` runs on the loop thread when every connection and
  // operation in flight is gone and the server's handles are closed; the loop then has
  // nothing left of the server.
  void shutdown(std::function<void()> done = {});
  bool stopping() const { return stopping_; }

  // Connections accepted and not yet closed.
  size_t connection_count() const { return admission_.total(); }

  uv_loop_t* loop() const { return loop_; }
  const ServerOptions& options() const { return options_; }
  const log::Logger& logger() const { return logger_; }

 private:
  friend class Connection;
  struct ListenHandle;
  enum class ShutdownPhase { kRunning, kNotify, kGrace, kCutOff };

  static void on_connection(uv_stream_t* stream, int status);
  static void on_listener_closed(uv_handle_t* handle);
  void close_listeners();
  static void on_async(uv_async_t* async);
  static void on_grace_expired(uv_timer_t* timer);
  void accept_from(ListenHandle& listener);
  void handle_closed();
  // Frees a connection that has finished with libuv.
  void connection_done(Connection& connection);
  void maybe_finish_shutdown();
  std::string next_id();

  uv_loop_t* loop_;
  ServerOptions options_;
  log::Logger logger_;
  Admission admission_;
  SessionFactory factory_;
  std::list<ListenHandle> listen_handles_;
  std::list<Connection> connections_;
  std::shared_ptr<AsyncQueue> async_queue_;
  uv_async_t async_{};
  uv_timer_t grace_timer_{};
  size_t open_handles_ = 0;  // the server's own: listeners, async, grace timer
  bool stopping_ = false;
  bool finished_ = false;
  ShutdownPhase shutdown_phase_ = ShutdownPhase::kRunning;
  std::function<void()> on_stopped_;
  uint64_t next_id_ = 0;
  std::vector<char> read_buffer_;
};

}  // namespace chapar::net
