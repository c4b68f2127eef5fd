// SPDX-License-Identifier: AGPL-3.0-or-later
// A SessionHost for tests: no sockets, no loop. It records what the session sends, runs
// "blocking" work and delayed functions when drained, waits for asynchronous completions from
// other threads (the store's writer), and completes a requested TLS handshake on the next
// drain. The clock is fixed unless a test moves it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/log.hpp"
#include "common/net/session.hpp"

namespace chapar::test {

class TestHost : public net::SessionHost {
 public:
  struct Options {
    net::ListenerInfo listener{"test", net::TlsMode::kStartTls};
    net::PeerInfo peer{"127.0.0.1", 40000, true};
    bool implicit_tls = false;  // TLS is up before start()
  };

  TestHost();
  explicit TestHost(Options options);
  ~TestHost() override;

  // Creates the session with `factory`, calls start() and drains.
  void open(const net::SessionFactory& factory);
  net::ProtocolSession& session() { return *session_; }

  // Feeds bytes to the session, then drains.
  void feed(std::string_view bytes);
  // Runs queued work, delayed functions and completions until nothing is in flight; then
  // completes a requested TLS handshake. Fails the test if a completion is not delivered
  // within 30 seconds.
  void drain();

  std::string take_output();
  const std::string& output() const { return output_; }
  bool closed() const { return closed_; }
  bool tls_active() const { return tls_.has_value(); }
  // The delays requested through run_later, in order.
  const std::vector<std::chrono::milliseconds>& delays() const { return delays_; }
  // How many times run_blocking was called.
  size_t blocking_runs() const { return blocking_runs_; }
  void set_now(std::chrono::system_clock::time_point now) { now_ = now; }
  // Tells the session that the peer vanished and destroys it.
  void disconnect();

  // SessionHost
  void send(std::string_view bytes) override;
  size_t pending_output() const override { return 0; }
  void start_tls() override { tls_requested_ = true; }
  void close() override { closed_ = true; }
  void run_blocking(std::function<void()> work, std::function<void()> done) override;
  net::LoopPoster begin_async() override;
  void run_later(std::chrono::milliseconds delay, std::function<void()> fn) override;
  const net::PeerInfo& peer() const override { return options_.peer; }
  const net::ListenerInfo& listener() const override { return options_.listener; }
  const std::optional<net::TlsInfo>& tls() const override { return tls_; }
  std::chrono::system_clock::time_point now() const override { return now_; }
  log::Logger& logger() override { return logger_; }

 private:
  struct Shared {
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<std::function<void()>> completions;
    size_t in_flight = 0;
  };

  Options options_;
  std::unique_ptr<net::ProtocolSession> session_;
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
  std::deque<std::function<void()>> local_;
  std::vector<std::chrono::milliseconds> delays_;
  size_t blocking_runs_ = 0;
  std::string output_;
  std::optional<net::TlsInfo> tls_;
  bool tls_requested_ = false;
  bool closed_ = false;
  std::chrono::system_clock::time_point now_;
  log::Logger logger_{{"conn", "test"}};
};

// A conversation script: lines "C: text" are sent by the client, "S: text" are expected
// from the server, each with CRLF appended. Consecutive C: lines are sent as one chunk; the
// S: lines after them are what the server must answer to that chunk.
struct Script {
  struct Step {
    std::string client;
    std::string server;
  };
  std::vector<Step> steps;

  static Script parse(std::string_view text);
  std::string all_client() const;
  std::string all_server() const;
};

// Replays `script` against fresh sessions from `factory`: once step by step, comparing each
// answer, and once for every split point of the whole client input (two chunks) and once a
// byte at a time, comparing the complete output. `make_host` builds each run's host, and
// `before_each` prepares shared state (e.g. resets a store) before every run.
void replay(const net::SessionFactory& factory, std::string_view script_text,
            const std::function<TestHost::Options()>& options = {},
            const std::function<void()>& before_each = {});

}  // namespace chapar::test
