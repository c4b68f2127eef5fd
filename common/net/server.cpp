// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/net/server.hpp"

#include <fmt/format.h>

#include <cstring>
#include <random>

#include "common/net/address.hpp"
#include "common/net/async_queue.hpp"
#include "common/net/connection.hpp"

namespace chapar::net {
namespace {

constexpr int kBacklog = 511;
constexpr size_t kReadBufferSize = 64 * 1024;

template <typename T>
uv_handle_t* as_handle(T* handle) {
  return reinterpret_cast<uv_handle_t*>(handle);
}

bool is_ipv4_wildcard(const config::Listener& listener) {
  return listener.address == "0.0.0.0";
}

}  // namespace

struct Server::ListenHandle {
  uv_tcp_t tcp{};
  Server* server = nullptr;
  config::Listener config;
  std::list<ListenHandle>::iterator self;
};

Server::Server(uv_loop_t* loop, ServerOptions options, log::Logger logger)
    : loop_(loop),
      options_(std::move(options)),
      logger_(std::move(logger)),
      admission_(options_.limits),
      async_queue_(std::make_shared<AsyncQueue>()),
      read_buffer_(kReadBufferSize) {
  async_.data = this;
  grace_timer_.data = this;
  uv_async_init(loop_, &async_, &Server::on_async);
  uv_timer_init(loop_, &grace_timer_);
  open_handles_ = 2;
  async_queue_->async = &async_;
  std::random_device random;
  next_id_ = (uint64_t{random()} << 32) | random();
}

Server::~Server() {
  on_stopped_ = nullptr;
  stopping_ = true;
  close_listeners();
  for (auto it = connections_.begin(); it != connections_.end();) {
    Connection& connection = *it++;
    connection.abort("shutdown");
  }
  while (!connections_.empty()) uv_run(loop_, UV_RUN_ONCE);
  maybe_finish_shutdown();
  while (open_handles_ > 0) uv_run(loop_, UV_RUN_ONCE);
}

Status Server::listen(const std::vector<config::Listener>& listeners) {
  for (const config::Listener& listener : listeners) {
    auto address = listen_address(listener.address, listener.port);
    if (!address) {
      return fail(Errc::kInvalidArgument,
                  "listener " + listener.name + ": " + address.error().message);
    }
    // "::" accepts IPv4 too (dual stack) unless "0.0.0.0" has the same port.
    unsigned flags = 0;
    if (address->ss_family == AF_INET6) {
      bool shared_port = listener.address != "::";
      for (const config::Listener& other : listeners) {
        if (is_ipv4_wildcard(other) && other.port == listener.port) shared_port = true;
      }
      if (shared_port) flags |= UV_TCP_IPV6ONLY;
    }

    ListenHandle& handle = listen_handles_.emplace_back();
    handle.self = std::prev(listen_handles_.end());
    handle.server = this;
    handle.config = listener;
    handle.tcp.data = &handle;
    if (int rc = uv_tcp_init(loop_, &handle.tcp); rc != 0) {
      listen_handles_.erase(handle.self);
      return fail(Errc::kInternal, std::string("uv_tcp_init: ") + uv_strerror(rc));
    }
    ++open_handles_;
    int rc = uv_tcp_bind(&handle.tcp, reinterpret_cast<const sockaddr*>(&*address), flags);
    if (rc == 0) {
      rc = uv_listen(reinterpret_cast<uv_stream_t*>(&handle.tcp), kBacklog, &Server::on_connection);
    }
    if (rc == 0) {
      sockaddr_storage bound{};
      int length = sizeof bound;
      rc = uv_tcp_getsockname(&handle.tcp, reinterpret_cast<sockaddr*>(&bound), &length);
      if (rc == 0) {
        auto peer = peer_from_sockaddr(reinterpret_cast<const sockaddr*>(&bound));
        if (peer) handle.config.port = peer->port;
      }
    }
    if (rc != 0) {
      uv_close(as_handle(&handle.tcp), &Server::on_listener_closed);
      return fail(Errc::kUnavailable,
                  fmt::format("cannot listen on {} port {}: {}", listener.address, listener.port,
                              uv_strerror(rc)));
    }
  }
  return {};
}

std::vector<config::Listener> Server::listeners() const {
  std::vector<config::Listener> out;
  for (const ListenHandle& handle : listen_handles_) out.push_back(handle.config);
  return out;
}

void Server::start(SessionFactory factory) {
  factory_ = std::move(factory);
}

void Server::shutdown(std::function<void()> done) {
  if (stopping_) return;
  stopping_ = true;
  on_stopped_ = std::move(done);
  close_listeners();
  logger_.info("shutdown", {{"connections", connections_.size()}});
  // Sessions hear of it from the loop, never from inside one of their own calls.
  shutdown_phase_ = ShutdownPhase::kNotify;
  uv_timer_start(&grace_timer_, &Server::on_grace_expired, 0, 0);
  maybe_finish_shutdown();
}

void Server::on_grace_expired(uv_timer_t* timer) {
  auto* self = static_cast<Server*>(timer->data);
  if (self->shutdown_phase_ == ShutdownPhase::kNotify) {
    self->shutdown_phase_ = ShutdownPhase::kGrace;
    for (auto it = self->connections_.begin(); it != self->connections_.end();) {
      Connection& connection = *it++;
      connection.begin_shutdown();
    }
    uv_timer_start(&self->grace_timer_, &Server::on_grace_expired,
                   static_cast<uint64_t>(self->options_.shutdown_grace.count()), 0);
  } else {
    self->shutdown_phase_ = ShutdownPhase::kCutOff;
    size_t cut = 0;
    for (auto it = self->connections_.begin(); it != self->connections_.end();) {
      Connection& connection = *it++;
      if (!connection.closed()) ++cut;
      connection.abort("shutdown");
    }
    if (cut > 0) self->logger_.warning("shutdown_cut_off", {{"connections", cut}});
  }
  self->maybe_finish_shutdown();
}

void Server::on_listener_closed(uv_handle_t* handle) {
  auto* listener = static_cast<ListenHandle*>(handle->data);
  Server* self = listener->server;
  self->listen_handles_.erase(listener->self);
  self->handle_closed();
}

void Server::close_listeners() {
  for (ListenHandle& listener : listen_handles_) {
    if (!uv_is_closing(as_handle(&listener.tcp))) {
      uv_close(as_handle(&listener.tcp), &Server::on_listener_closed);
    }
  }
}

void Server::on_connection(uv_stream_t* stream, int status) {
  auto* listener = static_cast<ListenHandle*>(stream->data);
  Server* self = listener->server;
  if (status < 0) {
    self->logger_.warning("accept_failed", {{"error", uv_strerror(status)}});
    return;
  }
  self->accept_from(*listener);
}

void Server::accept_from(ListenHandle& listener) {
  Connection& connection = connections_.emplace_back(*this, next_id(), listener.config);
  connection.self_ = std::prev(connections_.end());
  if (int rc = connection.init(); rc != 0) {
    logger_.error("accept_failed", {{"error", uv_strerror(rc)}});
    connections_.erase(connection.self_);
    return;
  }
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&listener.tcp), connection.stream()) != 0 ||
      !connection.read_peer()) {
    connection.refuse("accept_failed");
    return;
  }
  if (stopping_ || !factory_) {
    connection.refuse("shutting_down");
    return;
  }
  Refusal refusal = admission_.admit(connection.peer().address, Admission::Clock::now());
  if (refusal != Refusal::kNone) {
    logger_.info("connection_refused", {{"ip", connection.peer().address},
                                        {"listener", listener.config.name},
                                        {"reason", refusal_name(refusal)}});
    connection.refuse(refusal_name(refusal));
    return;
  }
  connection.admitted_ = true;
  connection.open(factory_);
}

void Server::on_async(uv_async_t* async) {
  auto* self = static_cast<Server*>(async->data);
  for (AsyncQueue::Item& item : self->async_queue_->take()) {
    item.connection->complete_async(std::move(item.continuation));
  }
}

void Server::connection_done(Connection& connection) {
  connections_.erase(connection.self_);
  maybe_finish_shutdown();
}

void Server::maybe_finish_shutdown() {
  if (!stopping_ || finished_ || !connections_.empty()) return;
  finished_ = true;
  {
    std::lock_guard lock(async_queue_->mutex);
    async_queue_->async = nullptr;
    async_queue_->items.clear();
  }
  auto closed = [](uv_handle_t* handle) { static_cast<Server*>(handle->data)->handle_closed(); };
  uv_close(as_handle(&async_), closed);
  uv_close(as_handle(&grace_timer_), closed);
}

void Server::handle_closed() {
  --open_handles_;
  if (open_handles_ == 0 && finished_ && on_stopped_) {
    logger_.info("stopped");
    std::exchange(on_stopped_, nullptr)();
  }
}

std::string Server::next_id() {
  return fmt::format("{:016x}", next_id_++);
}

}  // namespace chapar::net
