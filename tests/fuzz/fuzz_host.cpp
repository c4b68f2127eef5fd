// SPDX-License-Identifier: AGPL-3.0-or-later
#include "tests/fuzz/fuzz_host.hpp"

#include <cstdio>
#include <cstdlib>

namespace chapar::fuzz {
namespace {

// 2024-03-01 12:00:00 UTC: a fixed clock keeps every run of an input the same.
constexpr std::chrono::seconds kFixedNow{1709294400};
// A completion from the store's writer that takes longer than this is a hang.
constexpr std::chrono::seconds kCompletionDeadline{60};

}  // namespace

FuzzHost::FuzzHost(net::ListenerInfo listener, net::PeerInfo peer, bool implicit_tls)
    : listener_(std::move(listener)),
      peer_(std::move(peer)),
      now_(std::chrono::system_clock::time_point(kFixedNow)) {
  if (implicit_tls) tls_ = net::TlsInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, ""};
}

FuzzHost::~FuzzHost() {
  disconnect();
}

void FuzzHost::open(const net::SessionFactory& factory) {
  session_ = factory(*this);
  session_->start();
  drain();
}

void FuzzHost::feed(std::string_view bytes) {
  if (closed_ || !session_ || tls_requested_) return;
  session_->receive(bytes);
  drain();
}

void FuzzHost::drain() {
  for (;;) {
    if (!local_.empty()) {
      auto fn = std::move(local_.front());
      local_.pop_front();
      fn();
      continue;
    }
    std::unique_lock lock(shared_->mutex);
    if (!shared_->completions.empty()) {
      auto fn = std::move(shared_->completions.front());
      shared_->completions.pop_front();
      lock.unlock();
      fn();
      continue;
    }
    if (shared_->in_flight == 0) break;
    bool delivered = shared_->ready.wait_for(lock, kCompletionDeadline, [&] {
      return !shared_->completions.empty() || shared_->in_flight == 0;
    });
    if (!delivered) {
      std::fputs("fuzz host: an asynchronous completion was never delivered\n", stderr);
      std::abort();
    }
  }
  if (tls_requested_ && !closed_ && session_) {
    tls_requested_ = false;
    tls_ = net::TlsInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, ""};
    session_->on_tls_started();
    drain();
  }
}

void FuzzHost::flush() {
  if (!session_ || closed_) return;
  bool held = pending_ > 0;
  pending_ = 0;
  if (held && hold_output_) {
    session_->on_writable();
    drain();
  }
}

void FuzzHost::idle_timeout() {
  if (!session_ || closed_) return;
  (void)session_->idle_timeout();
  session_->on_idle_timeout();
  drain();
}

void FuzzHost::shutdown() {
  if (!session_ || closed_) return;
  session_->on_shutdown();
  drain();
}

void FuzzHost::disconnect() {
  if (!session_) return;
  drain();
  session_->on_disconnect();
  drain();
  session_.reset();
  closed_ = true;
}

void FuzzHost::send(std::string_view bytes) {
  if (closed_) return;
  pending_ += bytes.size();
  output_size_ += bytes.size();
}

void FuzzHost::run_blocking(std::function<void()> work, std::function<void()> done) {
  local_.push_back([work = std::move(work), done = std::move(done)] {
    work();
    done();
  });
}

net::LoopPoster FuzzHost::begin_async() {
  {
    std::lock_guard lock(shared_->mutex);
    ++shared_->in_flight;
  }
  return [shared = shared_](std::function<void()> fn) {
    std::lock_guard lock(shared->mutex);
    shared->completions.push_back(std::move(fn));
    --shared->in_flight;
    shared->ready.notify_all();
  };
}

void FuzzHost::run_later(std::chrono::milliseconds, std::function<void()> fn) {
  local_.push_back(std::move(fn));
}

ConversationMode ConversationMode::from_byte(uint8_t byte) {
  static constexpr size_t kChunks[] = {0, 1, 2, 3, 7, 64, 512, 4096};
  ConversationMode mode;
  mode.chunk = kChunks[byte & 7];
  mode.end = static_cast<End>((byte >> 3) & 3);
  mode.hold_output = (byte & 0x20) != 0;
  mode.implicit_tls = (byte & 0x40) != 0;
  mode.loopback = (byte & 0x80) == 0;
  return mode;
}

void drive(const net::SessionFactory& factory, std::string_view plain_listener,
           std::string_view tls_listener, const uint8_t* data, size_t size) {
  if (size == 0) return;
  ConversationMode mode = ConversationMode::from_byte(data[0]);
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  net::ListenerInfo listener{std::string(mode.implicit_tls ? tls_listener : plain_listener),
                             mode.implicit_tls ? net::TlsMode::kImplicit : net::TlsMode::kStartTls};
  net::PeerInfo peer = mode.loopback ? net::PeerInfo{"127.0.0.1", 40000, true}
                                     : net::PeerInfo{"192.0.2.10", 40000, false};
  FuzzHost host(listener, peer, mode.implicit_tls);
  host.set_hold_output(mode.hold_output);
  host.open(factory);
  size_t chunk = mode.chunk == 0 ? input.size() : mode.chunk;
  while (!input.empty() && !host.closed()) {
    size_t n = std::min(chunk, input.size());
    host.feed(input.substr(0, n));
    input.remove_prefix(n);
    host.flush();
  }
  // Whatever is still held back is read by the peer, so that a streamed answer finishes.
  for (int i = 0; i < 1024 && !host.closed() && host.pending_output() > 0; ++i) host.flush();
  switch (mode.end) {
    case ConversationMode::End::kIdleTimeout:
      host.idle_timeout();
      break;
    case ConversationMode::End::kShutdown:
      host.shutdown();
      break;
    case ConversationMode::End::kDisconnect:
    case ConversationMode::End::kNone:
      break;
  }
  host.disconnect();
}

}  // namespace chapar::fuzz
