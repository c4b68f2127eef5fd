// SPDX-License-Identifier: AGPL-3.0-or-later
// Completions handed to the loop thread from other threads (the store's writer), for the
// server's connections. Internal to the server.
#pragma once

#include <uv.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace chapar::net {

class Connection;

struct AsyncQueue {
  struct Item {
    Connection* connection;              // kept alive by its count of operations in flight
    std::function<void()> continuation;  // empty: the operation ended without one
  };

  std::mutex mutex;
  uv_async_t* async = nullptr;  // null once the server has stopped: posts are dropped
  std::vector<Item> items;

  void post(Connection* connection, std::function<void()> continuation) {
    std::lock_guard lock(mutex);
    if (async == nullptr) return;
    items.push_back(Item{connection, std::move(continuation)});
    uv_async_send(async);
  }

  std::vector<Item> take() {
    std::lock_guard lock(mutex);
    return std::exchange(items, {});
  }
};

// Shared by the copies of one LoopPoster. Completes the operation exactly once: with the
// continuation when the poster is called, or without one if every copy is dropped uncalled,
// so that the connection's count of operations in flight always comes down.
class AsyncToken {
 public:
  AsyncToken(std::shared_ptr<AsyncQueue> queue, Connection* connection)
      : queue_(std::move(queue)), connection_(connection) {}
  AsyncToken(const AsyncToken&) = delete;
  AsyncToken& operator=(const AsyncToken&) = delete;
  ~AsyncToken() {
    if (!done_.exchange(true)) queue_->post(connection_, {});
  }

  void complete(std::function<void()> continuation) {
    if (done_.exchange(true)) return;
    queue_->post(connection_, std::move(continuation));
  }

 private:
  std::shared_ptr<AsyncQueue> queue_;
  Connection* connection_;
  std::atomic<bool> done_{false};
};

}  // namespace chapar::net
