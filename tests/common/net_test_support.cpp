// SPDX-License-Identifier: AGPL-3.0-or-later
#include "tests/common/net_test_support.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace chapar::test {

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::yield();
    ::poll(nullptr, 0, 1);
  }
  return true;
}

// --- EchoSession ---------------------------------------------------------------------------

EchoSession::EchoSession(net::SessionHost& host, EchoStats& stats, EchoOptions options)
    : host_(host),
      stats_(stats),
      options_(options),
      reader_({.max_length = options.max_line, .bare_lf_ends_line = true}) {
  stats_.sessions++;
}

EchoSession::~EchoSession() {
  for (std::thread& thread : threads_) thread.join();
  stats_.destroyed++;
}

net::SessionFactory echo_factory(EchoStats& stats, EchoOptions options) {
  return [&stats, options](net::SessionHost& host) {
    return std::make_unique<EchoSession>(host, stats, options);
  };
}

void EchoSession::start() {
  host_.send("220 ready\r\n");
}

void EchoSession::receive(std::string_view bytes) {
  reader_.feed(bytes);
  size_t buffered = reader_.buffered();
  size_t seen = stats_.max_buffered.load();
  while (buffered > seen && !stats_.max_buffered.compare_exchange_weak(seen, buffered)) {
  }
  process();
}

void EchoSession::process() {
  while (!paused_ && big_left_ == 0) {
    auto line = reader_.next();
    if (!line) return;
    if (line->overlong) {
      host_.send("500 line too long\r\n");
      continue;
    }
    command(line->text);
  }
}

void EchoSession::command(std::string_view line) {
  if (line == "STARTTLS") {
    host_.send("220 go\r\n");
    reader_.clear();  // RFC 3207 §4.2: nothing pipelined behind STARTTLS counts
    host_.start_tls();
  } else if (line == "TLS?") {
    const auto& tls = host_.tls();
    host_.send(tls ? "250 " + tls->version + "\r\n" : std::string("250 plain\r\n"));
  } else if (line == "QUIT") {
    host_.send("221 bye\r\n");
    host_.close();
  } else if (line == "SLOW") {
    auto result = std::make_shared<int>(0);
    host_.run_blocking(
        [result] { *result = 42; },
        [this, result] { host_.send("250 slow " + std::to_string(*result) + "\r\n"); });
  } else if (line == "ASYNC") {
    net::LoopPoster poster = host_.begin_async();
    threads_.emplace_back([this, poster] { poster([this] { host_.send("250 async\r\n"); }); });
  } else if (line == "ASYNCHOLD") {
    net::LoopPoster poster = host_.begin_async();
    {
      std::lock_guard lock(stats_.mutex);
      stats_.held_posters.push_back(poster);
    }
    host_.send("250 held\r\n");
  } else if (line == "LATER") {
    host_.run_later(1ms, [this] { host_.send("250 later\r\n"); });
  } else if (line.rfind("BIG ", 0) == 0) {
    big_left_ = std::stoul(std::string(line.substr(4)));
    stream_big();
  } else if (line == "FLOOD") {
    flood();
  } else if (line == "PAUSE") {
    paused_ = true;
  } else {
    host_.send("> " + std::string(line) + "\r\n");
  }
}

void EchoSession::stream_big() {
  constexpr size_t kChunk = 16 * 1024;
  while (big_left_ > 0 && host_.pending_output() < kChunk) {
    size_t n = std::min(big_left_, kChunk);
    host_.send(std::string(n, 'x'));
    big_left_ -= n;
    if (big_left_ == 0) host_.send("\r\n");
  }
}

void EchoSession::on_writable() {
  if (big_left_ > 0) {
    stream_big();
    if (big_left_ == 0) process();
  }
}

void EchoSession::flood() {
  host_.send(std::string(256 * 1024, 'f'));
  host_.run_later(0ms, [this] { flood(); });
}

void EchoSession::on_idle_timeout() {
  host_.send("421 idle\r\n");
  host_.close();
}

void EchoSession::on_shutdown() {
  if (options_.ignore_shutdown) return;
  host_.send("421 shutting down\r\n");
  host_.close();
}

// --- TestServer ----------------------------------------------------------------------------

TestServer::TestServer(net::ServerOptions options, std::vector<config::Listener> listeners,
                       net::SessionFactory factory) {
  REQUIRE(uv_loop_init(&loop_) == 0);
  wake_.data = this;
  REQUIRE(uv_async_init(&loop_, &wake_, &TestServer::on_wake) == 0);
  server_ = std::make_unique<net::Server>(&loop_, std::move(options), log::Logger{{"test", "net"}});
  Status listening = server_->listen(listeners);
  REQUIRE_MESSAGE(listening.has_value(), (listening ? "" : listening.error().message));
  for (const config::Listener& listener : server_->listeners()) ports_.push_back(listener.port);
  server_->start(std::move(factory));
  thread_ = std::thread([this] { uv_run(&loop_, UV_RUN_DEFAULT); });
}

TestServer::~TestServer() {
  if (!stopped_) CHECK(stop());
  server_.reset();
  CHECK(uv_loop_close(&loop_) == 0);
}

void TestServer::on_wake(uv_async_t* async) {
  auto* self = static_cast<TestServer*>(async->data);
  std::deque<std::function<void()>> calls;
  {
    std::lock_guard lock(self->mutex_);
    calls.swap(self->calls_);
  }
  for (auto& fn : calls) fn();
}

void TestServer::call(std::function<void()> fn) {
  std::promise<void> done;
  auto future = done.get_future();
  {
    std::lock_guard lock(mutex_);
    calls_.push_back([&] {
      fn();
      done.set_value();
    });
  }
  uv_async_send(&wake_);
  REQUIRE(future.wait_for(kDeadline) == std::future_status::ready);
}

size_t TestServer::connection_count() {
  size_t count = 0;
  call([&] { count = server_->connection_count(); });
  return count;
}

bool TestServer::stop() {
  stopped_ = true;
  std::promise<void> stopped;
  auto future = stopped.get_future();
  call([&] {
    server_->shutdown([&] {
      uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
      stopped.set_value();
    });
  });
  bool in_time = future.wait_for(kDeadline) == std::future_status::ready;
  REQUIRE(in_time);
  thread_.join();
  return in_time;
}

// --- TestClient ----------------------------------------------------------------------------

TestClient::TestClient(uint16_t port, int receive_buffer) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd_ >= 0);
  if (receive_buffer > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
}

TestClient::~TestClient() {
  close_socket();
}

void TestClient::close_socket() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void TestClient::send_raw(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    REQUIRE(n > 0);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

void TestClient::send(std::string_view bytes) {
  if (!engine_) return send_raw(bytes);
  REQUIRE(engine_->write(bytes));
  send_raw(engine_->take_ciphertext());
}

size_t TestClient::send_some(std::string_view bytes) {
  ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  return n > 0 ? static_cast<size_t>(n) : 0;
}

bool TestClient::read_more() {
  pollfd p{fd_, POLLIN, 0};
  int ready = ::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(kDeadline).count()));
  REQUIRE_MESSAGE(ready == 1, "no answer from the server within the deadline");
  char buffer[64 * 1024];
  ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
  if (n <= 0) return false;
  std::string_view data(buffer, static_cast<size_t>(n));
  if (!engine_) {
    input_.append(data);
    return true;
  }
  Status fed = engine_->feed(data);
  send_raw(engine_->take_ciphertext());
  REQUIRE_MESSAGE(fed.has_value(), (fed ? "" : fed.error().message));
  input_ += engine_->take_plaintext();
  return true;
}

std::optional<std::string> TestClient::line() {
  for (;;) {
    size_t end = input_.find("\r\n");
    if (end != std::string::npos) {
      std::string line = input_.substr(0, end);
      input_.erase(0, end + 2);
      return line;
    }
    if (!read_more()) return std::nullopt;
  }
}

bool TestClient::closed_by_peer() {
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(kDeadline).count())) != 1) {
      return false;
    }
    char buffer[64 * 1024];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n <= 0) return true;
    if (engine_ && !engine_->failed()) {
      (void)engine_->feed(std::string_view(buffer, static_cast<size_t>(n)));
      input_ += engine_->take_plaintext();
    }
  }
}

void TestClient::start_tls(SSL_CTX* context, std::string_view host_name) {
  auto engine = tls::Engine::client(context, host_name);
  REQUIRE(engine.has_value());
  engine_ = std::move(*engine);
  send_raw(engine_->take_ciphertext());
  while (!engine_->handshake_done()) REQUIRE(read_more());
}

}  // namespace chapar::test
