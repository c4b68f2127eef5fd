// SPDX-License-Identifier: AGPL-3.0-or-later
// A SessionHost for fuzzing whole conversations: no sockets and no loop. It runs the
// session's "blocking" work and delayed functions at once, waits for the store writer's
// completions, completes a requested TLS handshake, and can hold back output so that the
// session's back-pressure paths (pending_output, on_writable) run too.
//
// drive() turns one fuzz input into a conversation. Its first byte chooses how the rest is
// delivered (see ConversationMode); the rest is the client's byte stream.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/log.hpp"
#include "common/net/session.hpp"

namespace chapar::fuzz {

class FuzzHost : public net::SessionHost {
 public:
  FuzzHost(net::ListenerInfo listener, net::PeerInfo peer, bool implicit_tls);
  ~FuzzHost() override;

  void open(const net::SessionFactory& factory);
  // Feeds bytes to the session (unless it closed or asked for TLS), then drains.
  void feed(std::string_view bytes);
  // Runs queued work and completions until nothing is in flight, then completes a
  // requested TLS handshake.
  void drain();
  // The peer read everything queued: on_writable() when output was held.
  void flush();
  void idle_timeout();
  void shutdown();
  void disconnect();

  bool closed() const { return closed_; }
  void set_hold_output(bool hold) { hold_output_ = hold; }
  uint64_t output_size() const { return output_size_; }

  // SessionHost
  void send(std::string_view bytes) override;
  size_t pending_output() const override { return hold_output_ ? pending_ : 0; }
  void start_tls() override { tls_requested_ = true; }
  void close() override { closed_ = true; }
  void run_blocking(std::function<void()> work, std::function<void()> done) override;
  net::LoopPoster begin_async() override;
  void run_later(std::chrono::milliseconds delay, std::function<void()> fn) override;
  const net::PeerInfo& peer() const override { return peer_; }
  const net::ListenerInfo& listener() const override { return listener_; }
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

  net::ListenerInfo listener_;
  net::PeerInfo peer_;
  std::unique_ptr<net::ProtocolSession> session_;
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
  std::deque<std::function<void()>> local_;
  std::optional<net::TlsInfo> tls_;
  bool tls_requested_ = false;
  bool closed_ = false;
  bool hold_output_ = false;
  size_t pending_ = 0;
  uint64_t output_size_ = 0;
  std::chrono::system_clock::time_point now_;
  log::Logger logger_{{"conn", "fuzz"}};
};

// What the first byte of an input asks for.
struct ConversationMode {
  size_t chunk = 0;  // bytes per receive() call; 0: all at once
  bool hold_output = false;
  bool implicit_tls = false;
  bool loopback = true;
  enum class End { kDisconnect, kIdleTimeout, kShutdown, kNone } end = End::kDisconnect;

  static ConversationMode from_byte(uint8_t byte);
};

// Runs one conversation: opens a session from `factory` on a FuzzHost for a listener named
// `plain_listener` (or `tls_listener` when the mode asks for implicit TLS), feeds it the
// input after the mode byte, and ends it as the mode says.
void drive(const net::SessionFactory& factory, std::string_view plain_listener,
           std::string_view tls_listener, const uint8_t* data, size_t size);

}  // namespace chapar::fuzz
