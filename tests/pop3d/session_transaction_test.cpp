// SPDX-License-Identifier: AGPL-3.0-or-later
// The TRANSACTION and UPDATE states: STAT, LIST, UIDL, RETR, TOP, DELE, RSET, NOOP, QUIT, and
// what reaches the store.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>

#include "tests/pop3d/pop3_fixture.hpp"

namespace chapar::pop3::test {
namespace {

// Fills {s1} {s2} {s3} (sizes), {total}, {u1} {u2} {u3} (unique ids) into a script.
std::string fill(Pop3Fixture& f, std::string_view script) {
  return fmt::format(
      fmt::runtime(script), fmt::arg("s1", kMessages[0].size()),
      fmt::arg("s2", kMessages[1].size()), fmt::arg("s3", kMessages[2].size()),
      fmt::arg("total", kMessages[0].size() + kMessages[1].size() + kMessages[2].size()),
      fmt::arg("s23", kMessages[1].size() + kMessages[2].size()), fmt::arg("u1", f.unique_id(1)),
      fmt::arg("u2", f.unique_id(2)), fmt::arg("u3", f.unique_id(3)));
}

// Runs raw input against one session and returns everything it answered.
std::string converse(Pop3Fixture& f, std::string_view input) {
  chapar::test::TestHost host(loopback());
  host.open(f.factory());
  host.feed(input);
  return host.take_output();
}

constexpr std::string_view kLoginRaw = "USER alice@example.org\r\nPASS correct horse\r\n";

}  // namespace

TEST_CASE_FIXTURE(Pop3Fixture, "STAT, LIST, UIDL and their errors") {
  replay(fill(*this, std::string("S: +OK Chapar ready.\n") + std::string(kAliceLogin) +
                         "C: STAT\n"
                         "S: +OK 3 {total}\n"
                         "C: LIST\n"
                         "S: +OK 3 messages ({total} octets)\n"
                         "S: 1 {s1}\n"
                         "S: 2 {s2}\n"
                         "S: 3 {s3}\n"
                         "S: .\n"
                         "C: LIST 2\n"
                         "S: +OK 2 {s2}\n"
                         "C: list 4\n"
                         "S: -ERR There's no message 4.\n"
                         "C: LIST 0\n"
                         "S: -ERR There's no message 0.\n"
                         "C: LIST x\n"
                         "S: -ERR Invalid message number.\n"
                         "C: LIST -1\n"
                         "S: -ERR Invalid message number.\n"
                         "C: LIST 99999999999\n"
                         "S: -ERR Invalid message number.\n"
                         "C: LIST 1 2\n"
                         "S: -ERR Syntax: LIST [msg]\n"
                         "C: UIDL\n"
                         "S: +OK\n"
                         "S: 1 {u1}\n"
                         "S: 2 {u2}\n"
                         "S: 3 {u3}\n"
                         "S: .\n"
                         "C: UIDL 3\n"
                         "S: +OK 3 {u3}\n"
                         "C: UIDL 4\n"
                         "S: -ERR There's no message 4.\n"
                         "C: STAT 1\n"
                         "S: -ERR Syntax: STAT\n"
                         "C: NOOP\n"
                         "S: +OK\n"),
         loopback());
}

TEST_CASE_FIXTURE(Pop3Fixture, "RETR sends the message byte-stuffed") {
  replay(fill(*this, std::string("S: +OK Chapar ready.\n") + std::string(kAliceLogin) +
                         "C: RETR 1\n"
                         "S: +OK {s1} octets\n"
                         "S: From: a@example.net\n"
                         "S: To: alice@example.org\n"
                         "S: Subject: one\n"
                         "S: \n"
                         "S: Hello Alice.\n"
                         "S: .\n"
                         "C: RETR 2\n"
                         "S: +OK {s2} octets\n"
                         "S: From: a@example.net\n"
                         "S: To: alice@example.org\n"
                         "S: Subject: dots\n"
                         "S: \n"
                         "S: ..leading dot\n"
                         "S: ...two dots\n"
                         "S: ..\n"
                         "S: after a lone dot\n"
                         "S: .\n"
                         "C: RETR 4\n"
                         "S: -ERR There's no message 4.\n"
                         "C: RETR\n"
                         "S: -ERR Syntax: RETR msg\n"),
         loopback());
}

TEST_CASE_FIXTURE(Pop3Fixture, "TOP sends the header and n lines of the body") {
  replay(std::string("S: +OK Chapar ready.\n") + std::string(kAliceLogin) +
             "C: TOP 3 0\n"
             "S: +OK\n"
             "S: From: a@example.net\n"
             "S: To: alice@example.org\n"
             "S: Subject: three\n"
             "S: \n"
             "S: .\n"
             "C: TOP 3 2\n"
             "S: +OK\n"
             "S: From: a@example.net\n"
             "S: To: alice@example.org\n"
             "S: Subject: three\n"
             "S: \n"
             "S: line 1\n"
             "S: line 2\n"
             "S: .\n"
             "C: TOP 2 1\n"
             "S: +OK\n"
             "S: From: a@example.net\n"
             "S: To: alice@example.org\n"
             "S: Subject: dots\n"
             "S: \n"
             "S: ..leading dot\n"
             "S: .\n"
             "C: TOP 3 x\n"
             "S: -ERR Invalid number of lines.\n"
             "C: TOP 3\n"
             "S: -ERR Syntax: TOP msg n\n"
             "C: TOP 9 1\n"
             "S: -ERR There's no message 9.\n",
         loopback());
}

TEST_CASE_FIXTURE(Pop3Fixture,
                  "DELE marks, RSET unmarks, and an unfinished session deletes nothing") {
  replay(fill(*this, std::string("S: +OK Chapar ready.\n") + std::string(kAliceLogin) +
                         "C: DELE 1\n"
                         "S: +OK Marked to be deleted.\n"
                         "C: DELE 1\n"
                         "S: -ERR Message is deleted.\n"
                         "C: RETR 1\n"
                         "S: -ERR Message is deleted.\n"
                         "C: TOP 1 0\n"
                         "S: -ERR Message is deleted.\n"
                         "C: LIST 1\n"
                         "S: -ERR Message is deleted.\n"
                         "C: UIDL 1\n"
                         "S: -ERR Message is deleted.\n"
                         "C: STAT\n"
                         "S: +OK 2 {s23}\n"
                         "C: LIST\n"
                         "S: +OK 2 messages ({s23} octets)\n"
                         "S: 2 {s2}\n"
                         "S: 3 {s3}\n"
                         "S: .\n"
                         "C: UIDL\n"
                         "S: +OK\n"
                         "S: 2 {u2}\n"
                         "S: 3 {u3}\n"
                         "S: .\n"
                         "C: RSET\n"
                         "S: +OK\n"
                         "C: STAT\n"
                         "S: +OK 3 {total}\n"
                         "C: DELE 2\n"
                         "S: +OK Marked to be deleted.\n"
                         "C: DELE x\n"
                         "S: -ERR Invalid message number.\n"),
         loopback());
  // Every run above ended with the connection dropped while a message was marked.
  CHECK(messages(kAlice) == kMessages);
}

TEST_CASE_FIXTURE(Pop3Fixture, "a dropped connection deletes nothing") {
  chapar::test::TestHost host(loopback());
  host.open(factory());
  host.feed(std::string(kLoginRaw) + "DELE 1\r\nDELE 2\r\nDELE 3\r\n");
  CHECK(host.output().ends_with("+OK Marked to be deleted.\r\n"));
  host.disconnect();
  CHECK(messages(kAlice) == kMessages);
}

TEST_CASE_FIXTURE(Pop3Fixture, "QUIT applies the deletions before answering") {
  replay(std::string("S: +OK Chapar ready.\n") + std::string(kAliceLogin) +
             "C: DELE 1\n"
             "S: +OK Marked to be deleted.\n"
             "C: DELE 3\n"
             "S: +OK Marked to be deleted.\n"
             "C: QUIT\n"
             "S: +OK Logging out, messages deleted.\n"
             "C: NOOP\n",
         loopback(), true);
  CHECK(messages(kAlice) == std::vector<std::string>{kMessages[1]});
  // The survivor keeps its unique id; numbering starts again at 1.
  CHECK(converse(*this, std::string(kLoginRaw) + "UIDL\r\nSTAT\r\n") ==
        "+OK Chapar ready.\r\n+OK\r\n+OK Logged in.\r\n+OK\r\n1 " + unique_id(2) +
            "\r\n.\r\n+OK 1 " + std::to_string(kMessages[1].size()) + "\r\n");
}

TEST_CASE_FIXTURE(Pop3Fixture, "QUIT after RSET deletes nothing") {
  replay(std::string("S: +OK Chapar ready.\n") + std::string(kAliceLogin) +
             "C: DELE 1\n"
             "S: +OK Marked to be deleted.\n"
             "C: RSET\n"
             "S: +OK\n"
             "C: QUIT\n"
             "S: +OK Logging out.\n",
         loopback());
  CHECK(messages(kAlice) == kMessages);
}

TEST_CASE_FIXTURE(Pop3Fixture, "QUIT is answered and the connection closed, later input ignored") {
  chapar::test::TestHost host(loopback());
  host.open(factory());
  host.feed(std::string(kLoginRaw) + "DELE 2\r\nQUIT\r\nSTAT\r\nRETR 1\r\n");
  CHECK(
      host.output().ends_with("+OK Marked to be deleted.\r\n+OK Logging out, messages "
                              "deleted.\r\n"));
  CHECK(host.closed());
  CHECK(messages(kAlice) == std::vector<std::string>{kMessages[0], kMessages[2]});
}

TEST_CASE_FIXTURE(Pop3Fixture, "a second session on the same maildrop is refused with IN-USE") {
  chapar::test::TestHost first(loopback());
  first.open(factory());
  first.feed(kLoginRaw);
  REQUIRE(first.output().ends_with("+OK Logged in.\r\n"));

  chapar::test::TestHost second(remote());
  second.open(factory());
  second.feed("STLS\r\n");
  second.feed(kLoginRaw);
  CHECK(second.take_output() ==
        "+OK Chapar ready.\r\n+OK Begin TLS negotiation now.\r\n+OK\r\n"
        "-ERR [IN-USE] Mailbox is locked by another POP3 session.\r\n");
  CHECK_FALSE(second.closed());
  // Another account is not affected.
  chapar::test::TestHost bob(loopback());
  bob.open(factory());
  bob.feed("USER bob@example.org\r\nPASS correct horse\r\nSTAT\r\n");
  CHECK(bob.output() == "+OK Chapar ready.\r\n+OK\r\n+OK Logged in.\r\n+OK 0 0\r\n");

  first.feed("QUIT\r\n");
  CHECK(first.closed());
  second.feed(std::string(kLoginRaw) + "STAT\r\n");
  CHECK(second.take_output().ends_with(
      "+OK Logged in.\r\n+OK 3 " +
      std::to_string(kMessages[0].size() + kMessages[1].size() + kMessages[2].size()) + "\r\n"));
}

TEST_CASE_FIXTURE(Pop3Fixture, "a dropped session releases the maildrop") {
  {
    chapar::test::TestHost first(loopback());
    first.open(factory());
    first.feed(kLoginRaw);
    REQUIRE(first.output().ends_with("+OK Logged in.\r\n"));
  }
  CHECK(converse(*this, kLoginRaw).ends_with("+OK Logged in.\r\n"));
}

TEST_CASE_FIXTURE(Pop3Fixture, "unique ids stay the same across sessions and a reopened store") {
  const std::string input = std::string(kLoginRaw) + "UIDL\r\n";
  std::string before = converse(*this, input);
  CHECK(before.find("1 " + unique_id(1) + "\r\n2 " + unique_id(2) + "\r\n3 " + unique_id(3)) !=
        std::string::npos);
  reopen();
  CHECK(converse(*this, input) == before);
  // Mail delivered later gets a new id; the old ones stay.
  deliver(*store, account_id(kAlice), "Subject: four\r\n\r\nfour\r\n");
  std::string after = converse(*this, input);
  CHECK(after.starts_with(before.substr(0, before.size() - 3)));
  CHECK(after.ends_with("4 " + unique_id(4) + "\r\n.\r\n"));
}

TEST_CASE_FIXTURE(Pop3Fixture, "the maildrop is the INBOX as it was at login") {
  chapar::test::TestHost host(loopback());
  host.open(factory());
  host.feed(std::string(kLoginRaw));
  deliver(*store, account_id(kAlice), "Subject: late\r\n\r\nlate\r\n");
  host.take_output();
  host.feed("STAT\r\n");
  CHECK(host.take_output().starts_with("+OK 3 "));
}

TEST_CASE_FIXTURE(Pop3Fixture, "a message expunged elsewhere after login is reported") {
  chapar::test::TestHost host(loopback());
  host.open(factory());
  host.feed(kLoginRaw);
  store::Mailbox mailbox = inbox(kAlice);
  REQUIRE(store->expunge_sync(mailbox.id, {1}).has_value());
  host.take_output();
  host.feed("RETR 1\r\nTOP 1 0\r\nDELE 1\r\nQUIT\r\n");
  CHECK(host.output() ==
        "-ERR Message was expunged by another client.\r\n"
        "-ERR Message was expunged by another client.\r\n"
        "+OK Marked to be deleted.\r\n"
        "+OK Logging out, messages deleted.\r\n");
  CHECK(messages(kAlice) == std::vector<std::string>{kMessages[1], kMessages[2]});
}

TEST_CASE_FIXTURE(Pop3Fixture, "the idle timeout closes without a reply and deletes nothing") {
  chapar::test::TestHost host(loopback());
  host.open(factory());
  CHECK(host.session().idle_timeout() == std::chrono::minutes(10));
  host.feed(std::string(kLoginRaw) + "DELE 1\r\n");
  host.take_output();
  host.session().on_idle_timeout();
  CHECK(host.closed());
  CHECK(host.output().empty());
  host.disconnect();
  CHECK(messages(kAlice) == kMessages);
}

TEST_CASE_FIXTURE(Pop3Fixture, "shutdown says goodbye between commands") {
  chapar::test::TestHost host(loopback());
  host.open(factory());
  host.feed(std::string(kLoginRaw) + "DELE 1\r\n");
  host.take_output();
  host.session().on_shutdown();
  CHECK(host.output() == "-ERR [SYS/TEMP] Server shutting down.\r\n");
  CHECK(host.closed());
  host.disconnect();
  CHECK(messages(kAlice) == kMessages);
}

}  // namespace chapar::pop3::test
