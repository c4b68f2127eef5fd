// SPDX-License-Identifier: AGPL-3.0-or-later
// The resolver's handling of DNS answers (MX, TXT, A/AAAA) as c-ares hands them over. A tiny
// DNS server on a loopback UDP socket, in the same libuv loop, answers every query with a
// header and question matching the query (so that c-ares accepts the datagram) followed by
// the input as the answer section; the real Resolver then turns that into records.
//
// Input: byte 0 picks the query and the response code, byte 1 the answer count, the rest
// is the answer section (compression pointers may point into the question).
#include <arpa/inet.h>
#include <uv.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/dns/resolver.hpp"

namespace {

using namespace chapar;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "fuzz dns: %s\n", what);
  std::abort();
}

struct Server {
  uv_loop_t loop{};
  uv_udp_t udp{};
  std::string port;
  std::unique_ptr<dns::Resolver> resolver;
  // The answer for the current input.
  uint8_t rcode = 0;
  uint16_t count = 0;
  std::string answers;
  char buffer[4096];
};

Server& server();

void on_alloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  *buf = uv_buf_init(server().buffer, sizeof server().buffer);
}

// Header (id of the query, QR|RD|RA, rcode, one question, `count` answers), the query's
// question, then the answer bytes.
void on_query(uv_udp_t* udp, ssize_t n, const uv_buf_t* buf, const sockaddr* from, unsigned) {
  if (n < 12 || from == nullptr) return;
  Server& s = server();
  std::string_view query(buf->base, static_cast<size_t>(n));
  size_t end = 12;
  while (end < query.size() && query[end] != 0) end += static_cast<uint8_t>(query[end]) + 1;
  end += 5;  // the root label, QTYPE, QCLASS
  if (end > query.size()) return;
  std::string reply;
  reply += query.substr(0, 2);
  reply += static_cast<char>(0x81);
  reply += static_cast<char>(0x80 | (s.rcode & 0x0f));
  reply += std::string("\0\1", 2);
  reply += static_cast<char>(s.count >> 8);
  reply += static_cast<char>(s.count & 0xff);
  reply += std::string(4, '\0');
  reply += query.substr(12, end - 12);
  reply += s.answers;
  uv_buf_t out = uv_buf_init(reply.data(), static_cast<unsigned>(reply.size()));
  (void)uv_udp_try_send(udp, &out, 1, from);
}

Server& server() {
  static Server* s = [] {
    auto* made = new Server;  // lives for the whole process, like libFuzzer itself
    if (uv_loop_init(&made->loop) != 0) die("uv_loop_init");
    if (uv_udp_init(&made->loop, &made->udp) != 0) die("uv_udp_init");
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", 0, &addr);
    if (uv_udp_bind(&made->udp, reinterpret_cast<const sockaddr*>(&addr), 0) != 0) die("bind");
    sockaddr_in bound{};
    int len = sizeof bound;
    uv_udp_getsockname(&made->udp, reinterpret_cast<sockaddr*>(&bound), &len);
    made->port = std::to_string(ntohs(bound.sin_port));
    if (uv_udp_recv_start(&made->udp, on_alloc, on_query) != 0) die("recv_start");
    dns::ResolverOptions options;
    options.server = "127.0.0.1:" + made->port;
    options.timeout = std::chrono::milliseconds(2000);
    options.tries = 1;
    auto resolver = dns::Resolver::create(&made->loop, options);
    if (!resolver) die("resolver");
    made->resolver = std::move(*resolver);
    return made;
  }();
  return *s;
}

template <typename T>
void run_until_answered(const std::function<void(dns::Callback<T>)>& start) {
  bool answered = false;
  start([&answered](Result<T> result) {
    answered = true;
    (void)result.has_value();
  });
  while (!answered) uv_run(&server().loop, UV_RUN_ONCE);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  Server& s = server();
  static constexpr uint8_t kCodes[] = {0, 0, 0, 3, 2, 5, 0, 1};
  s.rcode = kCodes[(data[0] >> 2) & 7];
  s.count = data[1] % 32;
  s.answers.assign(reinterpret_cast<const char*>(data) + 2, size - 2);
  dns::Resolver& resolver = *s.resolver;
  switch (data[0] & 3) {
    case 0:
    case 3:
      run_until_answered<dns::MxAnswer>([&](dns::Callback<dns::MxAnswer> done) {
        resolver.resolve_mx("example.org", std::move(done));
      });
      break;
    case 1:
      run_until_answered<std::vector<std::string>>(
          [&](dns::Callback<std::vector<std::string>> done) {
            resolver.resolve_txt("_dmarc.example.org", std::move(done));
          });
      break;
    case 2:
      run_until_answered<std::vector<std::string>>(
          [&](dns::Callback<std::vector<std::string>> done) {
            resolver.resolve_addresses("mx.example.org", std::move(done));
          });
      break;
  }
  return 0;
}
