// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/dns/resolver.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

namespace chapar::dns {
namespace {

// A libuv handle with a pointer back to its owner. Once handed to uv_close() the memory
// belongs to libuv until the close callback frees it.
template <typename Uv, typename Owner>
struct Handle {
  Uv uv{};
  Owner* owner = nullptr;
  ares_socket_t fd = ARES_SOCKET_BAD;
};

template <typename H>
void close_handle(H* h) {
  uv_close(reinterpret_cast<uv_handle_t*>(&h->uv),
           [](uv_handle_t* uv) { std::unique_ptr<H> owned(static_cast<H*>(uv->data)); });
}

Unexpected failure(int status, const std::string& name, std::string_view type) {
  std::string what = fmt::format("{} {}: {}", name, type, ares_strerror(status));
  switch (status) {
    case ARES_ENOTFOUND:
      return fail(Errc::kNotFound, fmt::format("{} {}: no such domain", name, type));
    case ARES_EBADNAME:
      return fail(Errc::kInvalidArgument, what);
    default:
      return fail(Errc::kUnavailable, what);
  }
}

bool is_ip_address(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

Result<MxAnswer> parse_mx(int status, const unsigned char* buf, int len, const std::string& name) {
  if (status == ARES_ENODATA) return MxAnswer{};
  if (status != ARES_SUCCESS) return failure(status, name, "MX");
  ares_mx_reply* reply = nullptr;
  status = ares_parse_mx_reply(buf, len, &reply);
  if (status == ARES_ENODATA) return MxAnswer{};
  if (status != ARES_SUCCESS) return failure(status, name, "MX");
  MxAnswer answer;
  for (ares_mx_reply* r = reply; r; r = r->next) {
    std::string host = r->host ? r->host : "";
    if (!host.empty() && host.back() == '.') host.pop_back();
    // RFC 7505 §3: a null MX is a single record of preference 0 naming the root.
    if (host.empty()) {
      answer.null_mx = true;
      continue;
    }
    answer.records.push_back({r->priority, std::move(host)});
  }
  ares_free_data(reply);
  std::stable_sort(
      answer.records.begin(), answer.records.end(),
      [](const MxRecord& a, const MxRecord& b) { return a.preference < b.preference; });
  return answer;
}

constexpr int kMaxAddresses = 64;

Result<std::vector<std::string>> parse_addresses(int status, const unsigned char* buf, int len,
                                                 const std::string& name, bool v6) {
  std::string_view type = v6 ? "AAAA" : "A";
  if (status == ARES_ENODATA) return std::vector<std::string>{};
  if (status != ARES_SUCCESS) return failure(status, name, type);
  std::vector<std::string> out;
  char text[INET6_ADDRSTRLEN];
  int count = kMaxAddresses;
  if (v6) {
    ares_addr6ttl addrs[kMaxAddresses];
    status = ares_parse_aaaa_reply(buf, len, nullptr, addrs, &count);
    if (status == ARES_SUCCESS) {
      for (int i = 0; i < count; ++i) {
        out.emplace_back(inet_ntop(AF_INET6, &addrs[i].ip6addr, text, sizeof text));
      }
    }
  } else {
    ares_addrttl addrs[kMaxAddresses];
    status = ares_parse_a_reply(buf, len, nullptr, addrs, &count);
    if (status == ARES_SUCCESS) {
      for (int i = 0; i < count; ++i) {
        out.emplace_back(inet_ntop(AF_INET, &addrs[i].ipaddr, text, sizeof text));
      }
    }
  }
  if (status == ARES_ENODATA) return std::vector<std::string>{};
  if (status != ARES_SUCCESS) return failure(status, name, type);
  return out;
}

Result<std::vector<std::string>> parse_txt(int status, const unsigned char* buf, int len,
                                           const std::string& name) {
  if (status == ARES_ENODATA) return std::vector<std::string>{};
  if (status != ARES_SUCCESS) return failure(status, name, "TXT");
  ares_txt_ext* reply = nullptr;
  status = ares_parse_txt_reply_ext(buf, len, &reply);
  if (status == ARES_ENODATA) return std::vector<std::string>{};
  if (status != ARES_SUCCESS) return failure(status, name, "TXT");
  std::vector<std::string> out;
  for (ares_txt_ext* r = reply; r; r = r->next) {
    if (r->record_start || out.empty()) out.emplace_back();
    out.back().append(reinterpret_cast<const char*>(r->txt), r->length);
  }
  ares_free_data(reply);
  return out;
}

}  // namespace

struct Resolver::Channel {
  using Poll = Handle<uv_poll_t, Channel>;
  using Timer = Handle<uv_timer_t, Channel>;
  using AnswerFn = std::function<void(int status, const unsigned char* buf, int len)>;

  struct Query {
    Channel* owner = nullptr;
    AnswerFn on_answer;
  };

  uv_loop_t* loop = nullptr;
  ares_channel ares = nullptr;
  std::unordered_map<ares_socket_t, Poll*> polls;
  Timer* timeout = nullptr;
  Timer* deferred_timer = nullptr;
  std::vector<std::function<void()>> deferred;
  // Cleared on destruction, so that a callback run from a batch can end the Resolver.
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);

  explicit Channel(uv_loop_t* l) : loop(l) {
    auto t = std::make_unique<Timer>();
    t->owner = this;
    uv_timer_init(loop, &t->uv);
    t->uv.data = t.get();
    timeout = t.release();
    auto d = std::make_unique<Timer>();
    d->owner = this;
    uv_timer_init(loop, &d->uv);
    d->uv.data = d.get();
    deferred_timer = d.release();
  }

  ~Channel() {
    *alive = false;
    // Calls every pending query back with ARES_EDESTRUCTION (dropped: !*alive) and reports
    // each socket closed through on_socket_state.
    if (ares) ares_destroy(ares);
    for (auto& [fd, poll] : polls) close_handle(poll);
    close_handle(timeout);
    close_handle(deferred_timer);
  }

  // c-ares opened, changed or closed a socket.
  static void on_socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<Channel*>(data);
    auto it = self->polls.find(fd);
    if (!readable && !writable) {
      if (it != self->polls.end()) {
        close_handle(it->second);
        self->polls.erase(it);
      }
      return;
    }
    Poll* poll = nullptr;
    if (it == self->polls.end()) {
      auto p = std::make_unique<Poll>();
      p->owner = self;
      p->fd = fd;
      if (uv_poll_init_socket(self->loop, &p->uv, fd) != 0) return;
      p->uv.data = p.get();
      poll = p.release();
      self->polls.emplace(fd, poll);
    } else {
      poll = it->second;
    }
    int events = (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0);
    uv_poll_start(&poll->uv, events, on_poll);
  }

  static void on_poll(uv_poll_t* uv, int status, int events) {
    auto* poll = static_cast<Poll*>(uv->data);
    Channel* self = poll->owner;
    // On an error let c-ares read and write, so that it sees the error and retries.
    bool error = status < 0;
    ares_socket_t rfd = error || (events & UV_READABLE) ? poll->fd : ARES_SOCKET_BAD;
    ares_socket_t wfd = error || (events & UV_WRITABLE) ? poll->fd : ARES_SOCKET_BAD;
    ares_process_fd(self->ares, rfd, wfd);
    self->reschedule();
  }

  static void on_timeout(uv_timer_t* uv) {
    auto* timer = static_cast<Timer*>(uv->data);
    Channel* self = timer->owner;
    ares_process_fd(self->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    self->reschedule();
  }

  void reschedule() {
    timeval storage;
    timeval* next = ares_timeout(ares, nullptr, &storage);
    if (!next) {
      uv_timer_stop(&timeout->uv);
      return;
    }
    uint64_t ms = uint64_t(next->tv_sec) * 1000 + (uint64_t(next->tv_usec) + 999) / 1000;
    uv_timer_start(&timeout->uv, on_timeout, ms, 0);
  }

  // Runs `fn` from the loop soon, outside any c-ares call.
  void defer(std::function<void()> fn) {
    deferred.push_back(std::move(fn));
    if (deferred.size() == 1) uv_timer_start(&deferred_timer->uv, on_deferred, 0, 0);
  }

  static void on_deferred(uv_timer_t* uv) {
    auto* timer = static_cast<Timer*>(uv->data);
    Channel* self = timer->owner;
    std::shared_ptr<bool> alive = self->alive;
    std::vector<std::function<void()>> batch;
    batch.swap(self->deferred);
    for (auto& fn : batch) {
      if (!*alive) return;
      fn();
    }
  }

  static void on_answer(void* arg, int status, int, unsigned char* buf, int len) {
    std::unique_ptr<Query> query(static_cast<Query*>(arg));
    if (status == ARES_EDESTRUCTION || !*query->owner->alive) return;
    query->on_answer(status, buf, len);
  }

  void query(const std::string& name, int type, AnswerFn handler) {
    auto q = std::make_unique<Query>();
    q->owner = this;
    q->on_answer = std::move(handler);
    ares_query(ares, name.c_str(), ns_c_in, type, on_answer, q.release());
    reschedule();
  }
};

Result<std::unique_ptr<Resolver>> Resolver::create(uv_loop_t* loop, ResolverOptions options) {
  static std::once_flag library;
  int init = ARES_SUCCESS;
  std::call_once(library, [&] { init = ares_library_init(ARES_LIB_INIT_ALL); });
  if (init != ARES_SUCCESS) return fail(Errc::kInternal, ares_strerror(init));

  auto channel = std::make_unique<Channel>(loop);
  ares_options opts{};
  opts.sock_state_cb = &Channel::on_socket_state;
  opts.sock_state_cb_data = channel.get();
  opts.timeout = static_cast<int>(options.timeout.count());
  opts.tries = options.tries;
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
  int rc = ares_init_options(&channel->ares, &opts, mask);
  if (rc != ARES_SUCCESS) {
    channel->ares = nullptr;
    return fail(Errc::kInternal, fmt::format("resolver: {}", ares_strerror(rc)));
  }
  if (!options.server.empty()) {
    rc = ares_set_servers_ports_csv(channel->ares, options.server.c_str());
    if (rc != ARES_SUCCESS) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("resolver {}: {}", options.server, ares_strerror(rc)));
    }
  }
  return std::make_unique<Resolver>(std::move(channel));
}

Result<std::unique_ptr<Resolver>> Resolver::create(uv_loop_t* loop, std::string server) {
  ResolverOptions options;
  options.server = std::move(server);
  return create(loop, std::move(options));
}

Resolver::Resolver(std::unique_ptr<Channel> channel) : channel_(std::move(channel)) {}

Resolver::~Resolver() = default;

void Resolver::resolve_mx(std::string domain, Callback<MxAnswer> done) {
  Channel* ch = channel_.get();
  ch->query(domain, ns_t_mx,
            [ch, domain, done = std::move(done)](int status, const unsigned char* buf, int len) {
              ch->defer([done, result = parse_mx(status, buf, len, domain)] { done(result); });
            });
}

void Resolver::resolve_addresses(std::string host, Callback<std::vector<std::string>> done) {
  Channel* ch = channel_.get();
  if (is_ip_address(host)) {
    ch->defer([done = std::move(done), host] { done(std::vector<std::string>{host}); });
    return;
  }
  // The two queries run together; the answer is given when both are in.
  struct Pending {
    std::optional<Result<std::vector<std::string>>> v4, v6;
    Callback<std::vector<std::string>> done;
  };
  auto pending = std::make_shared<Pending>();
  pending->done = std::move(done);
  auto finish = [ch, pending, host] {
    if (!pending->v4 || !pending->v6) return;
    const auto& a = *pending->v4;
    const auto& b = *pending->v6;
    Result<std::vector<std::string>> result = std::vector<std::string>{};
    if (a && b) {
      std::vector<std::string> all = *a;
      all.insert(all.end(), b->begin(), b->end());
      result = std::move(all);
    } else if (a && !a->empty()) {
      result = *a;  // what is known is enough to connect to
    } else if (b && !b->empty()) {
      result = *b;
    } else {
      const Error& e = !a ? a.error() : b.error();
      bool temporary = (!a && a.error().code == Errc::kUnavailable) ||
                       (!b && b.error().code == Errc::kUnavailable);
      result = temporary ? fail(Errc::kUnavailable, e.message)
                         : fail(e.code, fmt::format("{}: no such domain", host));
    }
    ch->defer([done = pending->done, result] { done(result); });
  };
  ch->query(host, ns_t_a, [pending, host, finish](int status, const unsigned char* buf, int len) {
    pending->v4 = parse_addresses(status, buf, len, host, false);
    finish();
  });
  ch->query(host, ns_t_aaaa,
            [pending, host, finish](int status, const unsigned char* buf, int len) {
              pending->v6 = parse_addresses(status, buf, len, host, true);
              finish();
            });
}

void Resolver::resolve_txt(std::string name, Callback<std::vector<std::string>> done) {
  Channel* ch = channel_.get();
  ch->query(name, ns_t_txt,
            [ch, name, done = std::move(done)](int status, const unsigned char* buf, int len) {
              ch->defer([done, result = parse_txt(status, buf, len, name)] { done(result); });
            });
}

}  // namespace chapar::dns
