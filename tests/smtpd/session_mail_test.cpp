// SPDX-License-Identifier: AGPL-3.0-or-later
// Session scripts for mail transactions: delivery into the real store, pipelining, SMTP
// smuggling, transparency, SIZE, limits, quotas, BDAT and SMTPUTF8.
#include <doctest/doctest.h>

#include "smtpd/session.hpp"
#include "tests/smtpd/smtp_fixture.hpp"

namespace chapar::smtp::test {

using chapar::test::TestHost;

namespace {

constexpr const char* kDate = "\tFri, 01 Mar 2024 12:00:00 +0000\r\n";

}  // namespace

TEST_CASE_FIXTURE(SmtpFixture, "a message is delivered with Return-Path and Received") {
  CHECK(converse("EHLO c\r\nMAIL FROM:<sender@example.net>\r\nRCPT TO:<bob@example.org>\r\n"
                 "DATA\r\nSubject: hello\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n",
                 connection("smtp"))
            .ends_with("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
                       "250 2.0.0 Ok: queued as 1\r\n221 2.0.0 Bye\r\n"));
  std::vector<std::string> messages = inbox(kBob);
  REQUIRE(messages.size() == 1);
  CHECK(messages[0] == std::string("Return-Path: <sender@example.net>\r\n"
                                   "Received: from c ([192.0.2.10])\r\n"
                                   "\tby mx.example.org (Chapar) with ESMTP\r\n"
                                   "\tfor <bob@example.org>;\r\n") +
                           kDate +
                           "Subject: hello\r\n"
                           "\r\n"
                           ".leading dot\r\n");
}

TEST_CASE_FIXTURE(SmtpFixture, "pipelined: every command answered in order, one delivery") {
  replay(std::string(kGreeting) +
             "C: EHLO c\n"
             "C: MAIL FROM:<>\n"
             "C: RCPT TO:<bob@example.org>\n"
             "C: RCPT TO:<Sales@Example.ORG>\n"
             "C: RCPT TO:<no@example.org>\n"
             "C: RCPT TO:<alice+x@example.org>\n"
             "C: DATA\n" +
             ehlo_reply({.starttls = true}) +
             "S: 250 2.1.0 Ok\n"
             "S: 250 2.1.5 Ok\n"
             "S: 250 2.1.5 Ok\n"
             "S: 550 5.1.1 <no@example.org>: Recipient address rejected: User unknown in "
             "local recipient table\n"
             "S: 250 2.1.5 Ok\n"
             "S: 354 End data with <CR><LF>.<CR><LF>\n"
             "C: Hi\n"
             "C: .\n"
             "C: QUIT\n"
             "S: 250 2.0.0 Ok: queued as 1\n"
             "S: 221 2.0.0 Bye\n",
         connection("smtp"));
  // bob and his alias: one entry; alice through plus-addressing.
  REQUIRE(inbox(kBob).size() == 1);
  REQUIRE(inbox(kAlice).size() == 1);
  std::string stored = inbox(kBob)[0];
  CHECK(stored == inbox(kAlice)[0]);
  // RFC 5321 §4.4: no FOR clause with several recipients.
  CHECK(trace_of(stored) == std::string("Return-Path: <>\r\n"
                                        "Received: from c ([192.0.2.10])\r\n"
                                        "\tby mx.example.org (Chapar) with ESMTP;\r\n") +
                                kDate);
  CHECK(without_trace(stored) == "Hi\r\n");
  CHECK(store->queue_entries()->empty());
}

TEST_CASE_FIXTURE(SmtpFixture, "relaying without AUTH is refused") {
  replay(std::string(kGreeting) +
             "C: HELO c\n"
             "C: MAIL FROM:<bob@example.org>\n"
             "C: RCPT TO:<someone@elsewhere.example>\n"
             "C: RCPT TO:<x@[192.0.2.1]>\n"
             "C: RCPT TO:<\"john doe\"@example.org>\n"
             "C: RCPT TO:<\"john doe\"@elsewhere.example>\n"
             "S: 250 mx.example.org\n"
             "S: 250 2.1.0 Ok\n"
             "S: 554 5.7.1 <someone@elsewhere.example>: Relay access denied\n"
             "S: 554 5.7.1 <x@[192.0.2.1]>: Relay access denied\n"
             "S: 550 5.1.1 <\"john doe\"@example.org>: Recipient address rejected: User unknown "
             "in local recipient table\n"
             "S: 554 5.7.1 <\"john doe\"@elsewhere.example>: Relay access denied\n",
         connection("smtp"), false);
}

TEST_CASE_FIXTURE(SmtpFixture, "Postmaster without a domain is this host's postmaster") {
  CHECK(converse("HELO c\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<Postmaster>\r\nDATA\r\n"
                 "x\r\n.\r\n",
                 connection("smtp")) ==
        "250 mx.example.org\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
        "354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 1\r\n");
  std::vector<std::string> messages = inbox("postmaster@mx.example.org");
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].find("with SMTP\r\n\tfor <postmaster@mx.example.org>;") != std::string::npos);
}

TEST_CASE_FIXTURE(SmtpFixture, "SMTP smuggling: only CRLF.CRLF ends the data") {
  // Every variant of the end marker, each followed by a smuggled command; the data reader's
  // own tests take each apart at every split.
  const std::string data =
      "a\n.\nMAIL FROM:<e@x>\r\n"
      "b\r.\rRCPT TO:<alice@example.org>\r\n"
      "c\n.\r\nDATA\r\n"
      "d\r\n.\nQUIT\r\n"
      "e\r.\r\nRSET\r\n";
  std::string out = replay_raw(
      "HELO c\r\nMAIL FROM:<a@x>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n" + data + ".\r\n",
      connection("smtp"));
  CHECK(out ==
        "220 mx.example.org ESMTP Chapar\r\n250 mx.example.org\r\n250 2.1.0 Ok\r\n"
        "250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n250 2.0.0 Ok: queued as 1\r\n");
  std::vector<std::string> messages = inbox(kBob);
  REQUIRE(messages.size() == 1);
  CHECK(without_trace(messages[0]) ==
        "a\r\n.\r\nMAIL FROM:<e@x>\r\n"
        "b\r.\rRCPT TO:<alice@example.org>\r\n"
        "c\r\n.\r\nDATA\r\n"
        "d\r\n.\r\nQUIT\r\n"
        "e\r.\r\nRSET\r\n");
  CHECK(inbox(kAlice).empty());
}

TEST_CASE_FIXTURE(SmtpFixture, "SIZE: refused at MAIL when declared too big, and at the end") {
  config.smtpd.max_message_size = 100;
  std::string big(60, 'x');
  replay(std::string(kGreeting) + "C: EHLO c\n" + ehlo_reply({.size = 100, .starttls = true}) +
             "C: MAIL FROM:<a@example.net> SIZE=101\n"
             "S: 552 5.3.4 Error: message size exceeds fixed maximum message size\n"
             "C: MAIL FROM:<a@example.net> SIZE=100\n"
             "C: RCPT TO:<bob@example.org>\n"
             "C: DATA\n"
             "S: 250 2.1.0 Ok\n"
             "S: 250 2.1.5 Ok\n"
             "S: 354 End data with <CR><LF>.<CR><LF>\n"
             "C: " +
             big + "\nC: " + big +
             "\n"
             "C: .\n"
             "S: 552 5.3.4 Error: message file too big\n"
             "C: MAIL FROM:<a@example.net>\n"
             "S: 250 2.1.0 Ok\n",
         connection("smtp"), false);
  CHECK(inbox(kBob).empty());
}

TEST_CASE_FIXTURE(SmtpFixture, "a data line over the limit refuses the message") {
  config.smtpd.max_line_length = 40;
  replay(std::string(kGreeting) +
             "C: HELO c\n"
             "C: MAIL FROM:<a@example.net>\n"
             "C: RCPT TO:<bob@example.org>\n"
             "C: DATA\n"
             "S: 250 mx.example.org\n"
             "S: 250 2.1.0 Ok\n"
             "S: 250 2.1.5 Ok\n"
             "S: 354 End data with <CR><LF>.<CR><LF>\n"
             "C: " +
             std::string(39, 'y') +
             "\n"
             "C: .\n"
             "S: 554 5.6.0 Error: message has a line longer than 40 octets\n"
             "C: NOOP\n"
             "S: 250 2.0.0 Ok\n",
         connection("smtp"), false);
  CHECK(inbox(kBob).empty());
}

TEST_CASE_FIXTURE(SmtpFixture, "recipients beyond the limit get 452 4.5.3") {
  replay(std::string(kGreeting) +
             "C: HELO c\n"
             "C: MAIL FROM:<a@example.net>\n"
             "C: RCPT TO:<bob@example.org>\n"
             "C: RCPT TO:<alice@example.org>\n"
             "C: RCPT TO:<info@example.org>\n"
             "C: RCPT TO:<carol@example.org>\n"
             "C: RSET\n"
             "S: 250 mx.example.org\n"
             "S: 250 2.1.0 Ok\n"
             "S: 250 2.1.5 Ok\n"
             "S: 250 2.1.5 Ok\n"
             "S: 250 2.1.5 Ok\n"
             "S: 452 4.5.3 Error: too many recipients\n"
             "S: 250 2.0.0 Ok\n",
         connection("smtp"), false);
}

TEST_CASE_FIXTURE(SmtpFixture, "transactions beyond the limit end the connection with 421") {
  TestHost host(connection("smtp"));
  host.open(factory());
  host.feed("HELO c\r\n");
  host.take_output();
  for (int i = 1; i <= 3; ++i) {
    host.feed("MAIL FROM:<a@example.net>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nx\r\n.\r\n");
    CHECK(host.take_output().ends_with("250 2.0.0 Ok: queued as " + std::to_string(i) + "\r\n"));
  }
  host.feed("MAIL FROM:<a@example.net>\r\n");
  CHECK(host.take_output() ==
        "421 4.7.0 mx.example.org Error: too many messages in one connection\r\n");
  CHECK(host.closed());
  CHECK(inbox(kBob).size() == 3);
}

TEST_CASE_FIXTURE(SmtpFixture, "quota: 552 5.2.2 when the message alone is too big") {
  replay(std::string(kGreeting) +
             "C: HELO c\n"
             "C: MAIL FROM:<a@example.net> SIZE=3000\n"
             "C: RCPT TO:<carol@example.org>\n"
             "S: 250 mx.example.org\n"
             "S: 250 2.1.0 Ok\n"
             "S: 552 5.2.2 <carol@example.org>: Recipient address rejected: message exceeds the "
             "mailbox quota\n",
         connection("smtp"), false);

  // Without a declared size, the end of the data tells.
  std::string body;
  for (int i = 0; i < 30; ++i) body += std::string(70, 'q') + "\r\n";  // 2160 > 2000 octets
  CHECK(converse("HELO c\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<carol@example.org>\r\n"
                 "DATA\r\n" +
                     body + ".\r\nNOOP\r\n",
                 connection("smtp"))
            .ends_with("354 End data with <CR><LF>.<CR><LF>\r\n"
                       "552 5.2.2 Error: message exceeds the mailbox quota\r\n250 2.0.0 Ok\r\n"));
  CHECK(inbox(kCarol).empty());
}

TEST_CASE_FIXTURE(SmtpFixture, "quota: a full mailbox gets 452 4.2.2 at RCPT") {
  auto carol = store->find_account(kCarol);
  REQUIRE(carol.has_value());
  store::Delivery fill;
  fill.message.content = store::Spool::from_string(std::string(1998, 'f') + "\r\n");
  auto prepared = store::Store::prepare(fill.message.content);
  REQUIRE(prepared.has_value());
  fill.message = std::move(*prepared);
  fill.local = {carol->id};
  REQUIRE(store->deliver_sync(std::move(fill)).has_value());

  TestHost host(connection("smtp"));
  host.open(factory());
  host.take_output();
  host.feed("HELO c\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<carol@example.org>\r\n");
  CHECK(host.take_output() ==
        "250 mx.example.org\r\n250 2.1.0 Ok\r\n"
        "452 4.2.2 <carol@example.org>: Recipient address rejected: mailbox full\r\n");
}

TEST_CASE_FIXTURE(SmtpFixture, "BDAT: chunks stored unchanged, pipelined") {
  replay(std::string(kGreeting) +
             "C: EHLO c\n"
             "C: MAIL FROM:<a@example.net> BODY=BINARYMIME\n"
             "C: RCPT TO:<bob@example.org>\n"
             "C: BDAT 24\n"
             "C: Subject: chunked\n"
             "C: x\n"
             "C: .\n"
             "C: BDAT 8 LAST\n"
             "C: \n"
             "C: body\n"
             "C: QUIT\n" +
             ehlo_reply({.starttls = true}) +
             "S: 250 2.1.0 Ok\n"
             "S: 250 2.1.5 Ok\n"
             "S: 250 2.0.0 Ok: 24 octets received\n"
             "S: 250 2.0.0 Ok: queued as 1\n"
             "S: 221 2.0.0 Bye\n",
         connection("smtp"));
  std::vector<std::string> messages = inbox(kBob);
  REQUIRE(messages.size() == 1);
  CHECK(without_trace(messages[0]) == "Subject: chunked\r\nx\r\n.\r\n\r\nbody\r\n");
}

TEST_CASE_FIXTURE(SmtpFixture, "BDAT: refused chunks are read and dropped; no mixing with DATA") {
  config.smtpd.max_message_size = 10;
  replay(std::string(kGreeting) +
             "C: HELO c\n"
             "C: BDAT 5\n"
             "C: abc\n"
             "C: MAIL FROM:<a@example.net> BODY=BINARYMIME\n"
             "C: RCPT TO:<bob@example.org>\n"
             "C: DATA\n"
             "C: BDAT 3\n"
             "C: a\n"
             "C: DATA\n"
             "C: BDAT 12 LAST\n"
             "C: 0123456789\n"
             "C: BDAT 3 LAST\n"
             "C: a\n"
             "C: BDAT x\n"
             "C: RSET\n"
             "S: 250 mx.example.org\n"
             "S: 503 5.5.1 Error: need MAIL command\n"
             "S: 250 2.1.0 Ok\n"
             "S: 250 2.1.5 Ok\n"
             "S: 503 5.5.1 Error: BODY=BINARYMIME requires BDAT\n"
             "S: 250 2.0.0 Ok: 3 octets received\n"
             "S: 503 5.5.1 Error: DATA cannot follow BDAT\n"
             "S: 552 5.3.4 Error: message file too big\n"
             "S: 503 5.5.1 Error: need MAIL command\n"
             "S: 501 5.5.4 Syntax: BDAT size [LAST]\n"
             "S: 250 2.0.0 Ok\n",
         connection("smtp"), false);
  CHECK(inbox(kBob).empty());
}

TEST_CASE_FIXTURE(SmtpFixture, "SMTPUTF8: a UTF-8 recipient reaches the right account") {
  replay(std::string(kGreeting) +
             "C: HELO c\n"
             "C: MAIL FROM:<s\xC3\xA9nder@example.net>\n"
             "C: MAIL FROM:<a@example.net>\n"
             "C: RCPT TO:<j\xC3\xB6rg@example.org>\n"
             "S: 250 mx.example.org\n"
             "S: 550 5.6.7 Non-ASCII sender address requires SMTPUTF8\n"
             "S: 250 2.1.0 Ok\n"
             "S: 553 5.6.7 Non-ASCII recipient address requires SMTPUTF8\n",
         connection("smtp"), false);

  CHECK(converse("EHLO c\r\n"
                 "MAIL FROM:<s\xC3\xA9nder@example.net> SMTPUTF8 BODY=8BITMIME\r\n"
                 "RCPT TO:<J\xC3\xB6rg@example.org>\r\n"
                 "DATA\r\nSubject: gr\xC3\xBC\xC3\x9F"
                 "e\r\n.\r\n",
                 connection("smtp"))
            .ends_with("250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
                       "250 2.0.0 Ok: queued as 1\r\n"));
  std::vector<std::string> messages = inbox(kJorg);
  REQUIRE(messages.size() == 1);
  CHECK(trace_of(messages[0]) == std::string("Return-Path: <s\xC3\xA9nder@example.net>\r\n"
                                             "Received: from c ([192.0.2.10])\r\n"
                                             "\tby mx.example.org (Chapar) with UTF8SMTP\r\n"
                                             "\tfor <J\xC3\xB6rg@example.org>;\r\n") +
                                     kDate);
  CHECK(without_trace(messages[0]) ==
        "Subject: gr\xC3\xBC\xC3\x9F"
        "e\r\n");
}

TEST_CASE_FIXTURE(SmtpFixture, "a large message is parsed off the loop and stored whole") {
  config.smtpd.max_message_size = 1 << 20;
  std::string body;
  for (int i = 0; body.size() < 3 * Session::kPrepareInlineLimit / 2; ++i) {
    body +=
        "line " + std::to_string(i) + " " + std::string(static_cast<size_t>(i % 97), 'z') + "\r\n";
  }
  std::string sent = "Subject: large\r\n\r\n" + body;
  CHECK(converse("HELO c\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<bob@example.org>\r\n"
                 "DATA\r\n" +
                     sent +
                     ".\r\nMAIL FROM:<a@example.net>\r\nRCPT TO:<alice@example.org>\r\n"
                     "BDAT " +
                     std::to_string(sent.size()) + " LAST\r\n" + sent,
                 connection("smtp"))
            .ends_with("250 2.0.0 Ok: queued as 1\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
                       "250 2.0.0 Ok: queued as 2\r\n"));
  std::vector<std::string> bob = inbox(kBob);
  REQUIRE(bob.size() == 1);
  bool same = without_trace(bob[0]) == sent;
  CHECK(same);
  std::vector<std::string> alice = inbox(kAlice);
  REQUIRE(alice.size() == 1);
  same = without_trace(alice[0]) == sent;
  CHECK(same);
}

TEST_CASE_FIXTURE(SmtpFixture, "REQUIRETLS only over TLS") {
  replay(std::string(kGreeting) +
             "C: HELO c\n"
             "C: MAIL FROM:<a@example.net> REQUIRETLS\n"
             "S: 250 mx.example.org\n"
             "S: 530 5.7.10 Error: REQUIRETLS needs a TLS connection\n",
         connection("smtp"), false);
}

}  // namespace chapar::smtp::test
