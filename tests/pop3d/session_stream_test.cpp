// SPDX-License-Identifier: AGPL-3.0-or-later
// RETR of a large message: produced piece by piece as the peer reads, with the commands
// pipelined behind it answered afterwards, in order.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>

#include "tests/pop3d/pop3_fixture.hpp"

namespace chapar::pop3::test {
namespace {

// A host whose peer reads only when told: everything sent stays pending until read_all().
class SlowReaderHost : public chapar::test::TestHost {
 public:
  using TestHost::TestHost;
  void send(std::string_view bytes) override {
    unread_ += bytes.size();
    TestHost::send(bytes);
  }
  size_t pending_output() const override { return unread_; }
  void read_all() { unread_ = 0; }

 private:
  size_t unread_ = 0;
};

// About 1.2 MB, every body line starting with a dot.
std::string large_message() {
  std::string message = "From: a@example.net\r\nSubject: large\r\n\r\n";
  for (int i = 0; i < 20000; ++i) message += fmt::format(".{:05} {:-<50}\r\n", i, "");
  return message;
}

std::string stuffed(std::string_view message) {
  std::string out;
  bool line_start = true;
  for (char c : message) {
    if (line_start && c == '.') out.push_back('.');
    out.push_back(c);
    line_start = c == '\n';
  }
  return out;
}

constexpr std::string_view kBobLogin = "USER bob@example.org\r\nPASS correct horse\r\n";

}  // namespace

TEST_CASE_FIXTURE(Pop3Fixture, "a large message is produced as the peer reads it") {
  const std::string message = large_message();
  deliver(*store, account_id(kBob), message);

  SlowReaderHost host(loopback());
  host.open(factory());
  host.feed(kBobLogin);
  REQUIRE(host.take_output().ends_with("+OK Logged in.\r\n"));
  host.read_all();

  host.feed("RETR 1\r\nNOOP\r\nLIST\r\n");
  const std::string head = fmt::format("+OK {} octets\r\n", message.size());
  REQUIRE(host.output().starts_with(head));
  CHECK(host.output().size() <= head.size() + 2 * Session::kStreamChunk);
  CHECK(host.session().buffered_input() > 0);

  int steps = 0;
  while (!host.output().ends_with("\r\n.\r\n+OK\r\n+OK 1 messages (" +
                                  std::to_string(message.size()) + " octets)\r\n1 " +
                                  std::to_string(message.size()) + "\r\n.\r\n")) {
    size_t before = host.output().size();
    host.read_all();
    host.session().on_writable();
    size_t step = host.output().size() - before;
    REQUIRE(step > 0);
    CHECK(step <= 2 * Session::kStreamChunk + 100);
    ++steps;
  }
  CHECK(steps >= 10);
  CHECK(host.output() == head + stuffed(message) + ".\r\n+OK\r\n+OK 1 messages (" +
                             std::to_string(message.size()) + " octets)\r\n1 " +
                             std::to_string(message.size()) + "\r\n.\r\n");
}

TEST_CASE_FIXTURE(Pop3Fixture, "TOP of a large message stops reading after the lines asked") {
  const std::string message = large_message();
  deliver(*store, account_id(kBob), message);
  SlowReaderHost host(loopback());
  host.open(factory());
  host.feed(kBobLogin);
  host.take_output();
  host.read_all();
  host.feed("TOP 1 2\r\n");
  CHECK(host.output() ==
        "+OK\r\nFrom: a@example.net\r\nSubject: large\r\n\r\n"
        "..00000 --------------------------------------------------\r\n"
        "..00001 --------------------------------------------------\r\n.\r\n");
}

TEST_CASE_FIXTURE(Pop3Fixture, "shutdown during a transfer lets it finish, then says goodbye") {
  const std::string message = large_message();
  deliver(*store, account_id(kBob), message);
  SlowReaderHost host(loopback());
  host.open(factory());
  host.feed(kBobLogin);
  host.take_output();
  host.read_all();
  host.feed("RETR 1\r\nSTAT\r\n");
  host.session().on_shutdown();
  CHECK_FALSE(host.closed());
  while (!host.closed()) {
    host.read_all();
    host.session().on_writable();
  }
  CHECK(host.output().ends_with("\r\n.\r\n-ERR [SYS/TEMP] Server shutting down.\r\n"));
  CHECK(host.output().size() > message.size());
}

TEST_CASE_FIXTURE(Pop3Fixture, "a dropped connection during a transfer") {
  const std::string message = large_message();
  deliver(*store, account_id(kBob), message);
  SlowReaderHost host(loopback());
  host.open(factory());
  host.feed(kBobLogin);
  host.read_all();
  host.feed("RETR 1\r\nDELE 1\r\nQUIT\r\n");
  CHECK_FALSE(host.closed());
  host.disconnect();
  CHECK(messages(kBob).size() == 1);
}

}  // namespace chapar::pop3::test
