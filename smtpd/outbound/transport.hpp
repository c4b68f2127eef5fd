// SPDX-License-Identifier: AGPL-3.0-or-later
// Carries one ClientSession over one TCP connection on a libuv loop: connect with a
// deadline, TLS through tls::Engine (implicit from the start, or when the session asks
// after STARTTLS), the session's reply deadlines, the message streamed as the socket takes
// it. The result comes back once, on the loop thread, after the connection is closed.
//
// A Transport owns itself: it frees its memory in the close callback of its last handle
// (handles are never moved while libuv holds them). abort() closes it early; the result
// then says the connection was lost.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/log.hpp"
#include "common/tls/engine.hpp"
#include "smtpd/outbound/client_session.hpp"

namespace chapar::tls {
class Context;
}

namespace chapar::smtp::outbound {

struct TransportOptions {
  std::string address;  // IP address to connect to
  uint16_t port = 25;
  std::string host_name;  // the server's name: SNI, certificate check, messages
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(30)};
  const tls::Context* tls = nullptr;  // client context; required for any TLS
  bool implicit_tls = false;          // RFC 8314: TLS before the greeting
  size_t high_water = 256 * 1024;     // message data is produced while less is unsent
};

class Transport {
 public:
  using Done = std::function<void(SessionResult)>;

  // Starts connecting. `done` is called exactly once, from the loop, never from inside
  // start(). The returned pointer stays valid until `done` has been called.
  static Transport* start(uv_loop_t* loop, TransportOptions options, ClientSession session,
                          log::Logger logger, Done done);

  // Closes the connection now; `done` still follows.
  void abort(std::string_view why);

  Transport(uv_loop_t* loop, TransportOptions options, ClientSession session, log::Logger logger,
            Done done);  // use start()

 private:
  struct WriteRequest {
    uv_write_t req{};
    std::string data;
    Transport* owner = nullptr;
  };

  void begin();
  static void on_connect(uv_connect_t* req, int status);
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_timer(uv_timer_t* timer);
  static void on_close(uv_handle_t* handle);

  void connected();
  void received(std::string_view bytes);
  void pump();
  void write_plain(std::string_view bytes);
  void write_raw(std::string data);
  void start_tls();
  void arm_timer(std::chrono::milliseconds timeout);
  void lose(std::string_view why);
  void close();
  void maybe_close_after_writes();

  uv_loop_t* loop_;
  TransportOptions options_;
  ClientSession session_;
  log::Logger logger_;
  Done done_;
  uv_tcp_t socket_{};
  uv_timer_t timer_{};
  uv_connect_t connect_req_{};
  std::optional<tls::Engine> engine_;
  bool connected_ = false;
  bool closing_ = false;
  bool handshake_reported_ = false;
  bool tls_closed_ = false;
  int open_handles_ = 0;
  size_t unsent_ = 0;  // octets written but not yet taken by the socket
  size_t writes_in_flight_ = 0;
  std::unique_ptr<Transport> self_;  // released in the last close callback
  char read_buffer_[64 * 1024];
};

}  // namespace chapar::smtp::outbound
