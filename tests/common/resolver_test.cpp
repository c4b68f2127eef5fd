// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/dns/resolver.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "common/text/ascii.hpp"

namespace chapar::dns {
namespace {

constexpr uint16_t kTypeA = 1, kTypeMx = 15, kTypeTxt = 16, kTypeAaaa = 28;
constexpr uint8_t kNoError = 0, kServFail = 2, kNxDomain = 3;

struct Record {
  uint16_t type;
  std::string rdata;
};

struct Canned {
  uint8_t rcode = kNoError;
  std::vector<Record> answers;
  bool drop = false;  // never answer
};

void put16(std::string& out, uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xff);
}

std::string encode_name(std::string_view name) {
  std::string out;
  while (!name.empty()) {
    size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    out += static_cast<char>(label.size());
    out += label;
    name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
  }
  out += '\0';
  return out;
}

Record mx(uint16_t preference, std::string_view host) {
  std::string rdata;
  put16(rdata, preference);
  rdata += encode_name(host);
  return {kTypeMx, rdata};
}

Record a(const char* ip) {
  in_addr addr{};
  inet_pton(AF_INET, ip, &addr);
  return {kTypeA, std::string(reinterpret_cast<const char*>(&addr), 4)};
}

Record aaaa(const char* ip) {
  in6_addr addr{};
  inet_pton(AF_INET6, ip, &addr);
  return {kTypeAaaa, std::string(reinterpret_cast<const char*>(&addr), 16)};
}

Record txt(std::vector<std::string_view> strings) {
  std::string rdata;
  for (std::string_view s : strings) {
    rdata += static_cast<char>(s.size());
    rdata += s;
  }
  return {kTypeTxt, rdata};
}

// A DNS server on 127.0.0.1, UDP, on a port the system picks, answering from a table of
// (name, type) pairs; everything else gets NXDOMAIN.
class Responder {
 public:
  Responder() {
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    REQUIRE(pipe(stop_) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~Responder() {
    char c = 'x';
    (void)!write(stop_[1], &c, 1);
    thread_.join();
    close(fd_);
    close(stop_[0]);
    close(stop_[1]);
  }

  std::string address() const { return fmt::format("127.0.0.1:{}", port_); }
  void set(std::string name, uint16_t type, Canned canned) {
    std::lock_guard lock(mutex_);
    table_[{std::move(name), type}] = std::move(canned);
  }
  int queries() const { return queries_; }

 private:
  void serve() {
    while (true) {
      pollfd fds[2] = {{fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
      if (poll(fds, 2, -1) < 0) continue;
      if (fds[1].revents) return;
      char buf[512];
      sockaddr_in peer{};
      socklen_t len = sizeof peer;
      ssize_t n = recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &len);
      if (n < 12) continue;
      ++queries_;
      std::optional<std::string> reply = answer(std::string_view(buf, size_t(n)));
      if (reply) {
        sendto(fd_, reply->data(), reply->size(), 0, reinterpret_cast<sockaddr*>(&peer), len);
      }
    }
  }

  std::optional<std::string> answer(std::string_view query) {
    size_t pos = 12;
    std::string name;
    while (pos < query.size() && query[pos] != 0) {
      size_t n = static_cast<unsigned char>(query[pos]);
      if (!name.empty()) name += '.';
      name += query.substr(pos + 1, n);
      pos += n + 1;
    }
    size_t question_end = pos + 5;
    if (question_end > query.size()) return std::nullopt;
    uint16_t type = uint16_t(uint8_t(query[pos + 1]) << 8 | uint8_t(query[pos + 2]));
    Canned canned;
    canned.rcode = kNxDomain;
    {
      std::lock_guard lock(mutex_);
      auto it = table_.find({text::ascii_lowercase(name), type});
      if (it != table_.end()) {
        canned = it->second;
      } else {
        for (const auto& [key, value] : table_) {
          if (key.first == text::ascii_lowercase(name)) canned.rcode = kNoError;  // NODATA
        }
      }
    }
    if (canned.drop) return std::nullopt;
    std::string out(query.substr(0, 2));                 // id
    out += static_cast<char>(0x81 | (query[2] & 0x01));  // QR, opcode 0, AA, RD as asked
    out += static_cast<char>(0x80 | canned.rcode);       // RA, rcode
    put16(out, 1);
    put16(out, uint16_t(canned.answers.size()));
    put16(out, 0);
    put16(out, 0);
    out += query.substr(12, question_end - 12);
    for (const Record& r : canned.answers) {
      put16(out, 0xc00c);  // the name of the question
      put16(out, r.type);
      put16(out, 1);  // IN
      put16(out, 0);
      put16(out, 300);  // TTL
      put16(out, uint16_t(r.rdata.size()));
      out += r.rdata;
    }
    return out;
  }

  int fd_ = -1;
  int stop_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::map<std::pair<std::string, uint16_t>, Canned> table_;
  std::atomic<int> queries_{0};
};

// A libuv loop that must be left with every handle closed.
class Loop {
 public:
  Loop() { REQUIRE(uv_loop_init(&loop_) == 0); }
  ~Loop() {
    uv_run(&loop_, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop_) == 0);
  }
  uv_loop_t* get() { return &loop_; }

  // Runs the loop until `done` holds, failing the test after 20 seconds.
  template <typename Pred>
  void run_until(Pred done) {
    uint64_t deadline = uv_now(&loop_) + 20000;
    while (!done()) {
      uv_run(&loop_, UV_RUN_ONCE);
      uv_update_time(&loop_);
      REQUIRE_MESSAGE(uv_now(&loop_) < deadline, "no answer from the resolver");
    }
  }

 private:
  uv_loop_t loop_;
};

template <typename T>
Result<T> ask(Loop& loop, const std::function<void(Callback<T>)>& start) {
  std::optional<Result<T>> answer;
  start([&](Result<T> r) { answer = std::move(r); });
  CHECK_FALSE(answer.has_value());  // never inside the call
  loop.run_until([&] { return answer.has_value(); });
  return std::move(*answer);
}

std::unique_ptr<Resolver> make_resolver(Loop& loop, const Responder& responder,
                                        std::chrono::milliseconds timeout = std::chrono::seconds(2),
                                        int tries = 3) {
  ResolverOptions options;
  options.server = responder.address();
  options.timeout = timeout;
  options.tries = tries;
  auto r = Resolver::create(loop.get(), options);
  REQUIRE_MESSAGE(r.has_value(), r.error().message);
  return std::move(*r);
}

TEST_CASE("dns: MX records sorted by preference") {
  Responder responder;
  responder.set("example.org", kTypeMx,
                {kNoError,
                 {mx(20, "mx2.example.org"), mx(10, "mx1.example.org"), mx(20, "mx3.example.net"),
                  mx(5, "MX0.Example.org")}});
  Loop loop;
  auto resolver = make_resolver(loop, responder);
  auto answer = ask<MxAnswer>(loop, [&](auto cb) { resolver->resolve_mx("example.org", cb); });
  REQUIRE_MESSAGE(answer.has_value(), answer.error().message);
  CHECK_FALSE(answer->null_mx);
  REQUIRE(answer->records.size() == 4);
  CHECK(answer->records[0].preference == 5);
  CHECK(answer->records[0].host == "MX0.Example.org");
  CHECK(answer->records[1].host == "mx1.example.org");
  CHECK(answer->records[2].host == "mx2.example.org");
  CHECK(answer->records[3].host == "mx3.example.net");
}

TEST_CASE("dns: null MX (RFC 7505)") {
  Responder responder;
  responder.set("nomail.example", kTypeMx, {kNoError, {mx(0, "")}});
  Loop loop;
  auto resolver = make_resolver(loop, responder);
  auto answer = ask<MxAnswer>(loop, [&](auto cb) { resolver->resolve_mx("nomail.example", cb); });
  REQUIRE(answer.has_value());
  CHECK(answer->null_mx);
  CHECK(answer->records.empty());
}

TEST_CASE("dns: NXDOMAIN, NODATA and temporary failure are told apart") {
  Responder responder;
  responder.set("a-only.example", kTypeA, {kNoError, {a("192.0.2.1")}});
  responder.set("broken.example", kTypeMx, {kServFail, {}});
  responder.set("silent.example", kTypeMx, Canned{kNoError, {}, true});
  Loop loop;
  auto resolver = make_resolver(loop, responder);

  auto nx = ask<MxAnswer>(loop, [&](auto cb) { resolver->resolve_mx("nowhere.example", cb); });
  REQUIRE_FALSE(nx.has_value());
  CHECK(nx.error().code == Errc::kNotFound);

  auto nodata = ask<MxAnswer>(loop, [&](auto cb) { resolver->resolve_mx("a-only.example", cb); });
  REQUIRE(nodata.has_value());
  CHECK(nodata->records.empty());
  CHECK_FALSE(nodata->null_mx);

  auto servfail = ask<MxAnswer>(loop, [&](auto cb) { resolver->resolve_mx("broken.example", cb); });
  REQUIRE_FALSE(servfail.has_value());
  CHECK(servfail.error().code == Errc::kUnavailable);

  auto fast = make_resolver(loop, responder, std::chrono::milliseconds(50), 1);
  auto timeout = ask<MxAnswer>(loop, [&](auto cb) { fast->resolve_mx("silent.example", cb); });
  REQUIRE_FALSE(timeout.has_value());
  CHECK(timeout.error().code == Errc::kUnavailable);
}

TEST_CASE("dns: A and AAAA addresses") {
  Responder responder;
  responder.set("mx.example.org", kTypeA, {kNoError, {a("192.0.2.10"), a("192.0.2.11")}});
  responder.set("mx.example.org", kTypeAaaa, {kNoError, {aaaa("2001:db8::25")}});
  responder.set("v6.example.org", kTypeAaaa, {kNoError, {aaaa("2001:db8::26")}});
  responder.set("half.example.org", kTypeA, {kNoError, {a("192.0.2.12")}});
  responder.set("half.example.org", kTypeAaaa, {kServFail, {}});
  responder.set("down.example.org", kTypeA, {kServFail, {}});
  responder.set("down.example.org", kTypeAaaa, {kNoError, {}});
  Loop loop;
  auto resolver = make_resolver(loop, responder);
  using Addresses = std::vector<std::string>;
  auto lookup = [&](std::string host) {
    return ask<Addresses>(loop, [&](auto cb) { resolver->resolve_addresses(host, cb); });
  };

  auto both = lookup("mx.example.org");
  REQUIRE(both.has_value());
  CHECK(*both == Addresses{"192.0.2.10", "192.0.2.11", "2001:db8::25"});
  CHECK(*lookup("v6.example.org") == Addresses{"2001:db8::26"});
  CHECK(*lookup("half.example.org") == Addresses{"192.0.2.12"});

  auto down = lookup("down.example.org");
  REQUIRE_FALSE(down.has_value());
  CHECK(down.error().code == Errc::kUnavailable);
  auto missing = lookup("nowhere.example.org");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().code == Errc::kNotFound);

  int before = responder.queries();
  CHECK(*lookup("198.51.100.7") == Addresses{"198.51.100.7"});
  CHECK(*lookup("2001:db8::1") == Addresses{"2001:db8::1"});
  CHECK(responder.queries() == before);
}

TEST_CASE("dns: TXT records join their strings") {
  Responder responder;
  responder.set(
      "example.org", kTypeTxt,
      {kNoError, {txt({"v=spf1 ", "mx -all"}), txt({"google-site-verification=abc"}), txt({""})}});
  Loop loop;
  auto resolver = make_resolver(loop, responder);
  using Strings = std::vector<std::string>;
  auto answer = ask<Strings>(loop, [&](auto cb) { resolver->resolve_txt("example.org", cb); });
  REQUIRE_MESSAGE(answer.has_value(), answer.error().message);
  CHECK(*answer == Strings{"v=spf1 mx -all", "google-site-verification=abc", ""});
}

TEST_CASE("dns: many queries at once, and a resolver ended with queries pending") {
  Responder responder;
  for (int i = 0; i < 20; ++i) {
    responder.set(fmt::format("h{}.example", i), kTypeMx,
                  {kNoError, {mx(uint16_t(i), "mx.example")}});
  }
  responder.set("slow.example", kTypeMx, Canned{kNoError, {}, true});
  Loop loop;
  auto resolver = make_resolver(loop, responder);
  int answered = 0;
  for (int i = 0; i < 20; ++i) {
    resolver->resolve_mx(fmt::format("h{}.example", i), [&answered, i](Result<MxAnswer> r) {
      REQUIRE(r.has_value());
      CHECK(r->records.at(0).preference == i);
      ++answered;
    });
  }
  loop.run_until([&] { return answered == 20; });

  bool called = false;
  resolver->resolve_mx("slow.example", [&](Result<MxAnswer>) { called = true; });
  resolver->resolve_mx("h1.example", [&](Result<MxAnswer>) { resolver.reset(); });
  loop.run_until([&] { return resolver == nullptr; });
  CHECK_FALSE(called);
}

TEST_CASE("dns: a bad server address is refused") {
  Loop loop;
  auto r = Resolver::create(loop.get(), "not an address");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::kInvalidArgument);
}

}  // namespace
}  // namespace chapar::dns
