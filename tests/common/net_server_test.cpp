// SPDX-License-Identifier: AGPL-3.0-or-later
#include <doctest/doctest.h>

#include <thread>

#include "common/net/server.hpp"
#include "tests/common/net_test_support.hpp"

namespace chapar::net {
namespace {

using namespace std::chrono_literals;
using test::EchoOptions;
using test::EchoStats;
using test::eventually;
using test::TestClient;
using test::TestServer;

config::Listener plain_listener(std::string name = "test") {
  return config::Listener{std::move(name), "127.0.0.1", 0, TlsMode::kNone};
}

TEST_CASE("server: lines are echoed, pipelined or not, and QUIT closes") {
  EchoStats stats;
  TestServer server({}, {plain_listener()}, test::echo_factory(stats));
  REQUIRE(server.port() != 0);
  TestClient client(server.port());
  CHECK(client.line() == "220 ready");
  client.send("hello\r\n");
  CHECK(client.line() == "> hello");
  client.send("one\r\ntwo\r\nthr");
  CHECK(client.line() == "> one");
  CHECK(client.line() == "> two");
  client.send("ee\r\nTLS?\r\nQUIT\r\nnever\r\n");
  CHECK(client.line() == "> three");
  CHECK(client.line() == "250 plain");
  CHECK(client.line() == "221 bye");
  CHECK(client.closed_by_peer());
  CHECK(eventually([&] { return stats.destroyed == 1; }));
  CHECK(stats.disconnects == 1);
  CHECK(server.connection_count() == 0);
}

TEST_CASE("server: blocking work, asynchronous completions and delayed calls") {
  EchoStats stats;
  TestServer server({}, {plain_listener()}, test::echo_factory(stats));
  TestClient client(server.port());
  CHECK(client.line() == "220 ready");
  client.send("SLOW\r\n");
  CHECK(client.line() == "250 slow 42");
  client.send("ASYNC\r\n");
  CHECK(client.line() == "250 async");
  client.send("LATER\r\n");
  CHECK(client.line() == "250 later");
}

TEST_CASE("server: a completion for a connection that has gone is dropped") {
  EchoStats stats;
  TestServer server({}, {plain_listener()}, test::echo_factory(stats));
  {
    TestClient client(server.port());
    CHECK(client.line() == "220 ready");
    client.send("ASYNCHOLD\r\n");
    CHECK(client.line() == "250 held");
  }
  REQUIRE(eventually([&] { return stats.disconnects == 1; }));
  // The session stays alive while its operation is in flight.
  CHECK(stats.destroyed == 0);
  LoopPoster poster;
  {
    std::lock_guard lock(stats.mutex);
    REQUIRE(stats.held_posters.size() == 1);
    poster = std::move(stats.held_posters.front());
    stats.held_posters.clear();
  }
  poster([&] { stats.late_continuation_ran = true; });
  CHECK(eventually([&] { return stats.destroyed == 1; }));
  CHECK_FALSE(stats.late_continuation_ran);
}

TEST_CASE("server: a poster dropped without being called still ends the operation") {
  EchoStats stats;
  TestServer server({}, {plain_listener()}, test::echo_factory(stats));
  {
    TestClient client(server.port());
    CHECK(client.line() == "220 ready");
    client.send("ASYNCHOLD\r\n");
    CHECK(client.line() == "250 held");
  }
  REQUIRE(eventually([&] { return stats.disconnects == 1; }));
  {
    std::lock_guard lock(stats.mutex);
    stats.held_posters.clear();
  }
  CHECK(eventually([&] { return stats.destroyed == 1; }));
}

TEST_CASE("server: a large answer streams through pending_output and on_writable") {
  EchoStats stats;
  TestServer server({}, {plain_listener()}, test::echo_factory(stats));
  TestClient client(server.port(), 8192);
  CHECK(client.line() == "220 ready");
  client.send("BIG 3000000\r\nafter\r\n");
  auto big = client.line();
  REQUIRE(big.has_value());
  CHECK(big->size() == 3000000);
  CHECK(big->find_first_not_of('x') == std::string::npos);
  CHECK(client.line() == "> after");
}

TEST_CASE("server: an overlong line gets an error, not a crash") {
  EchoStats stats;
  TestServer server({}, {plain_listener()}, test::echo_factory(stats, {.max_line = 100}));
  TestClient client(server.port());
  CHECK(client.line() == "220 ready");
  client.send(std::string(100000, 'a') + "\r\nok\r\n");
  CHECK(client.line() == "500 line too long");
  CHECK(client.line() == "> ok");
}

TEST_CASE("server: the idle timeout lets the session say goodbye, then closes") {
  EchoStats stats;
  TestServer server({}, {plain_listener()}, test::echo_factory(stats, {.idle_timeout = 50ms}));
  TestClient client(server.port());
  CHECK(client.line() == "220 ready");
  CHECK(client.line() == "421 idle");
  CHECK(client.closed_by_peer());
}

// Sends `byte` every 20 ms until the server has closed the connection or `limit` bytes went
// out; returns how many were sent.
size_t trickle(TestClient& client, const EchoStats& stats, char byte, size_t limit) {
  size_t sent = 0;
  while (sent < limit && stats.disconnects == 0) {
    if (client.send_some(std::string_view(&byte, 1)) == 0) break;
    ++sent;
    std::this_thread::sleep_for(20ms);
  }
  return sent;
}

TEST_CASE("server: a line trickled a byte at a time is cut off at the timeout") {
  EchoStats stats;
  TestServer server({}, {plain_listener()}, test::echo_factory(stats, {.idle_timeout = 200ms}));
  TestClient client(server.port());
  CHECK(client.line() == "220 ready");
  // Every byte would restart a timeout that only measured silence; the deadline of a record
  // runs from its first byte, and 500 bytes a second earn 2 ms a byte. Ten seconds of
  // trickling must not pass.
  CHECK(trickle(client, stats, 'a', 500) < 500);
  CHECK(client.line() == "421 idle");
  CHECK(client.closed_by_peer());
}

TEST_CASE("server: complete lines restart the timeout") {
  EchoStats stats;
  TestServer server({}, {plain_listener()}, test::echo_factory(stats, {.idle_timeout = 200ms}));
  TestClient client(server.port());
  CHECK(client.line() == "220 ready");
  for (int i = 0; i < 30; ++i) {
    client.send("ping\r\n");
    CHECK(client.line() == "> ping");
    std::this_thread::sleep_for(20ms);
  }
  CHECK(stats.disconnects == 0);
}

TEST_CASE("server: a client waiting for an operation in flight is not idle") {
  EchoStats stats;
  TestServer server({}, {plain_listener()}, test::echo_factory(stats, {.idle_timeout = 50ms}));
  TestClient client(server.port());
  CHECK(client.line() == "220 ready");
  client.send("ASYNCHOLD\r\n");
  CHECK(client.line() == "250 held");
  REQUIRE(eventually([&] {
    std::lock_guard lock(stats.mutex);
    return stats.held_posters.size() == 1;
  }));
  std::this_thread::sleep_for(300ms);
  CHECK(stats.disconnects == 0);
  {
    std::lock_guard lock(stats.mutex);
    stats.held_posters.front()([] {});
    stats.held_posters.clear();
  }
  CHECK(client.line() == "421 idle");
  CHECK(client.closed_by_peer());
}

TEST_CASE("server: a client that never reads is cut off at the output cap") {
  EchoStats stats;
  ServerOptions options;
  options.limits.max_output_buffer = 512 * 1024;
  TestServer server(options, {plain_listener()}, test::echo_factory(stats));
  TestClient client(server.port(), 4096);
  client.send("FLOOD\r\n");
  CHECK(eventually([&] { return stats.disconnects == 1; }));
  CHECK(eventually([&] { return server.connection_count() == 0; }));
}

TEST_CASE("server: reading stops while the session holds too much unprocessed input") {
  EchoStats stats;
  ServerOptions options;
  options.limits.max_input_buffer = 4096;
  TestServer server(options, {plain_listener()}, test::echo_factory(stats));
  TestClient client(server.port());
  CHECK(client.line() == "220 ready");
  client.send("PAUSE\r\n");
  // Keep writing until the kernel buffers are full: the server has stopped reading.
  std::string chunk(64 * 1024, 'p');
  size_t idle_rounds = 0;
  REQUIRE(eventually([&] {
    idle_rounds = client.send_some(chunk) == 0 ? idle_rounds + 1 : 0;
    return idle_rounds > 50;
  }));
  // One read past the limit at most.
  CHECK(stats.max_buffered <= 4096 + 64 * 1024);
}

TEST_CASE("server: connections beyond the per-address limit are closed at once") {
  EchoStats stats;
  ServerOptions options;
  options.limits.max_connections_per_ip = 2;
  TestServer server(options, {plain_listener()}, test::echo_factory(stats));
  auto first = std::make_unique<TestClient>(server.port());
  TestClient second(server.port());
  CHECK(first->line() == "220 ready");
  CHECK(second.line() == "220 ready");
  {
    TestClient third(server.port());
    CHECK(third.closed_by_peer());
  }
  first.reset();
  REQUIRE(eventually([&] { return server.connection_count() == 1; }));
  TestClient fourth(server.port());
  CHECK(fourth.line() == "220 ready");
  CHECK(stats.sessions == 3);
}

TEST_CASE("server: shutdown asks sessions to finish, then stops") {
  EchoStats stats;
  TestServer server({}, {plain_listener()}, test::echo_factory(stats));
  TestClient a(server.port());
  TestClient b(server.port());
  CHECK(a.line() == "220 ready");
  CHECK(b.line() == "220 ready");
  CHECK(server.stop());
  CHECK(a.line() == "421 shutting down");
  CHECK(b.line() == "421 shutting down");
  CHECK(a.closed_by_peer());
  CHECK(stats.destroyed == 2);
}

TEST_CASE("server: a session that ignores shutdown is cut off after the grace period") {
  EchoStats stats;
  ServerOptions options;
  options.shutdown_grace = 50ms;
  TestServer server(options, {plain_listener()},
                    test::echo_factory(stats, {.ignore_shutdown = true}));
  TestClient client(server.port());
  CHECK(client.line() == "220 ready");
  CHECK(server.stop());
  CHECK(client.closed_by_peer());
  CHECK(stats.destroyed == 1);
}

TEST_CASE("server: listening on IPv6 loopback and a bad address") {
  uv_loop_t loop;
  REQUIRE(uv_loop_init(&loop) == 0);
  {
    Server server(&loop, {}, log::Logger{});
    Status bad = server.listen({config::Listener{"x", "not-an-address", 0, TlsMode::kNone}});
    CHECK_FALSE(bad.has_value());
    Status six = server.listen({config::Listener{"six", "::1", 0, TlsMode::kNone}});
    if (six) {
      REQUIRE(server.listeners().size() == 1);
      CHECK(server.listeners()[0].port != 0);
    } else {
      MESSAGE("no IPv6 loopback here: " << six.error().message);
    }
  }
  CHECK(uv_loop_close(&loop) == 0);
}

}  // namespace
}  // namespace chapar::net
