// SPDX-License-Identifier: AGPL-3.0-or-later
// For the server tests: a net::Server on its own loop thread, a line-echoing session that
// exercises every SessionHost call, and a blocking client socket (optionally through a TLS
// client engine) that waits with deadlines instead of sleeping.
#pragma once

#include <doctest/doctest.h>
#include <poll.h>
#include <sys/socket.h>
#include <uv.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/net/line_reader.hpp"
#include "common/net/server.hpp"
#include "common/tls/engine.hpp"

namespace chapar::test {

using namespace std::chrono_literals;

constexpr auto kDeadline = 20s;

// Polls `condition` until it holds or the deadline passes.
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds deadline = kDeadline);

struct EchoStats {
  std::atomic<int> sessions{0};
  std::atomic<int> disconnects{0};
  std::atomic<int> destroyed{0};
  std::atomic<int> tls_started{0};
  std::atomic<size_t> max_buffered{0};
  std::atomic<bool> late_continuation_ran{false};
  std::mutex mutex;
  std::vector<net::LoopPoster> held_posters;  // ASYNCHOLD: completed by the test
};

struct EchoOptions {
  std::chrono::milliseconds idle_timeout = 30s;
  bool ignore_shutdown = false;
  size_t max_line = 1000;
};

// Commands, one per line:
//   STARTTLS        "220 go", then TLS          TLS?       the negotiated version
//   QUIT            "221 bye", close            SLOW       run_blocking, then "250 slow"
//   ASYNC           begin_async completed from another thread, then "250 async"
//   ASYNCHOLD       begin_async whose poster the test completes; "250 held"
//   LATER           run_later(1 ms), then "250 later"
//   BIG n           n bytes of 'x' then CRLF, streamed by pending_output/on_writable
//   FLOOD           256 KiB every loop turn, ignoring pending_output (a misbehaving session)
//   PAUSE           stop processing input (it stays buffered)
//   anything else   "> " + the line
class EchoSession : public net::ProtocolSession {
 public:
  EchoSession(net::SessionHost& host, EchoStats& stats, EchoOptions options);
  ~EchoSession() override;

  void start() override;
  void receive(std::string_view bytes) override;
  void on_tls_started() override { stats_.tls_started++; }
  void on_writable() override;
  void on_idle_timeout() override;
  void on_shutdown() override;
  void on_disconnect() override { stats_.disconnects++; }
  std::chrono::milliseconds idle_timeout() const override { return options_.idle_timeout; }
  size_t buffered_input() const override { return reader_.buffered(); }
  bool mid_record() const override { return reader_.buffered() > 0; }

 private:
  void process();
  void command(std::string_view line);
  void stream_big();
  void flood();

  net::SessionHost& host_;
  EchoStats& stats_;
  EchoOptions options_;
  net::LineReader reader_;
  bool paused_ = false;
  size_t big_left_ = 0;
  std::vector<std::thread> threads_;
};

net::SessionFactory echo_factory(EchoStats& stats, EchoOptions options = {});

// A server on 127.0.0.1, port 0, running on its own loop thread.
class TestServer {
 public:
  TestServer(net::ServerOptions options, std::vector<config::Listener> listeners,
             net::SessionFactory factory);
  ~TestServer();

  uint16_t port(size_t index = 0) const { return ports_.at(index); }
  // Runs `fn` on the loop thread and waits for it.
  void call(std::function<void()> fn);
  size_t connection_count();
  // Graceful shutdown; true when the server stopped and the loop thread ended in time.
  bool stop();

 private:
  static void on_wake(uv_async_t* async);

  uv_loop_t loop_{};
  uv_async_t wake_{};
  std::unique_ptr<net::Server> server_;
  std::vector<uint16_t> ports_;
  std::mutex mutex_;
  std::deque<std::function<void()>> calls_;
  std::thread thread_;
  bool stopped_ = false;
};

// A blocking client on 127.0.0.1 with deadlines; after start_tls() it speaks through a TLS
// client engine.
class TestClient {
 public:
  explicit TestClient(uint16_t port, int receive_buffer = 0);
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  void send(std::string_view bytes);
  // Sends without blocking; returns how much the kernel took.
  size_t send_some(std::string_view bytes);
  // The next line without CRLF, or nullopt on end of stream.
  std::optional<std::string> line();
  // True when the server closes the connection (after any further data) within the deadline.
  bool closed_by_peer();
  // Handshakes as a TLS client over the connection.
  void start_tls(SSL_CTX* context, std::string_view host_name);
  const tls::Engine* engine() const { return engine_ ? &*engine_ : nullptr; }
  void close_socket();

 private:
  bool read_more();
  void send_raw(std::string_view bytes);

  int fd_ = -1;
  std::string input_;
  std::optional<tls::Engine> engine_;
};

}  // namespace chapar::test
