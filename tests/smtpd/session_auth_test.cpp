// SPDX-License-Identifier: AGPL-3.0-or-later
// Session scripts for AUTH, STARTTLS and the policy of each listener.
#include <doctest/doctest.h>

#include "smtpd/session.hpp"
#include "tests/smtpd/smtp_fixture.hpp"

namespace chapar::smtp::test {

using chapar::test::TestHost;

namespace {

// PLAIN for bob@example.org with the right password, and with a wrong one.
constexpr const char* kBobPlain = "AGJvYkBleGFtcGxlLm9yZwBjb3JyZWN0IGhvcnNl";
constexpr const char* kBobWrong = "AGJvYkBleGFtcGxlLm9yZwB3cm9uZw==";
// LOGIN: the user name and the password.
constexpr const char* kBobUser = "Ym9iQGV4YW1wbGUub3Jn";
constexpr const char* kBobPassword = "Y29ycmVjdCBob3JzZQ==";
// PLAIN for bob@example.org asking to act as alice@example.org.
constexpr const char* kBobAsAlice =
    "YWxpY2VAZXhhbXBsZS5vcmcAYm9iQGV4YW1wbGUub3JnAGNvcnJlY3QgaG9yc2U=";

std::string line(std::string_view prefix, std::string_view text) {
  return std::string(prefix) + std::string(text) + "\n";
}

}  // namespace

TEST_CASE_FIXTURE(SmtpFixture, "AUTH PLAIN with an initial response; own addresses only") {
  replay(std::string(kGreeting) + "C: EHLO c\n" + ehlo_reply({.starttls = true, .auth = true}) +
             line("C: AUTH PLAIN ", kBobPlain) +
             "S: 235 2.7.0 Authentication successful\n"
             "C: EHLO c\n" +
             ehlo_reply({.starttls = true}) + line("C: AUTH PLAIN ", kBobPlain) +
             "S: 503 5.5.1 Error: already authenticated\n"
             "C: MAIL FROM:<alice@example.org>\n"
             "S: 553 5.7.1 <alice@example.org>: Sender address rejected: not owned by user "
             "bob@example.org\n"
             "C: MAIL FROM:<sales@example.org>\n"
             "S: 250 2.1.0 Ok\n"
             "C: RCPT TO:<friend@elsewhere.example>\n"
             "S: 250 2.1.5 Ok\n"
             "C: RSET\n"
             "S: 250 2.0.0 Ok\n"
             "C: MAIL FROM:<Bob+lists@Example.org>\n"
             "S: 250 2.1.0 Ok\n"
             "C: RSET\n"
             "S: 250 2.0.0 Ok\n"
             "C: MAIL FROM:<>\n"
             "S: 250 2.1.0 Ok\n",
         connection("smtp", net::TlsMode::kStartTls, true), false);
}

TEST_CASE_FIXTURE(SmtpFixture, "AUTH PLAIN and LOGIN by challenge and response") {
  replay(std::string(kGreeting) +
             "C: EHLO c\n"
             "C: AUTH PLAIN\n" +
             ehlo_reply({.starttls = true, .auth = true}) + "S: 334 \n" + line("C: ", kBobPlain) +
             "S: 235 2.7.0 Authentication successful\n",
         connection("smtp", net::TlsMode::kStartTls, true), false);
  replay(std::string(kGreeting) +
             "C: HELO c\n"
             "C: AUTH login\n"
             "S: 250 mx.example.org\n"
             "S: 334 VXNlcm5hbWU6\n" +
             line("C: ", kBobUser) + "S: 334 UGFzc3dvcmQ6\n" + line("C: ", kBobPassword) +
             "S: 235 2.7.0 Authentication successful\n",
         connection("smtp", net::TlsMode::kStartTls, true), false);
  replay(std::string(kGreeting) + "C: HELO c\n" + line("C: AUTH LOGIN ", kBobUser) +
             "S: 250 mx.example.org\n"
             "S: 334 UGFzc3dvcmQ6\n" +
             line("C: ", kBobPassword) + "S: 235 2.7.0 Authentication successful\n",
         connection("smtp", net::TlsMode::kStartTls, true), false);
}

TEST_CASE_FIXTURE(SmtpFixture,
                  "AUTH failures: cancel, bad base64, unknown mechanism, wrong password") {
  replay(std::string(kGreeting) +
             "C: HELO c\n"
             "C: AUTH LOGIN\n"
             "S: 250 mx.example.org\n"
             "S: 334 VXNlcm5hbWU6\n"
             "C: *\n"
             "S: 501 5.7.0 Authentication aborted\n"
             "C: AUTH PLAIN =\n"
             "S: 501 5.5.2 Error: invalid SASL response\n"
             "C: AUTH PLAIN !!!!\n"
             "S: 501 5.5.2 Error: invalid SASL response\n"
             "C: AUTH CRAM-MD5\n"
             "S: 504 5.5.4 Error: unsupported authentication mechanism\n"
             "C: AUTH\n"
             "S: 501 5.5.4 Syntax: AUTH mechanism [initial-response]\n" +
             line("C: AUTH PLAIN ", kBobAsAlice) +
             "S: 535 5.7.8 Error: authentication failed\n"
             "C: NOOP\n"
             "S: 250 2.0.0 Ok\n",
         connection("smtp", net::TlsMode::kStartTls, true), false);

  TestHost host(connection("smtp", net::TlsMode::kStartTls, true));
  host.open(factory());
  host.take_output();
  host.feed(std::string("HELO c\r\nAUTH PLAIN ") + kBobWrong +
            "\r\nMAIL FROM:<bob@example.org>\r\n");
  CHECK(host.take_output() ==
        "250 mx.example.org\r\n535 5.7.8 Error: authentication failed\r\n"
        "250 2.1.0 Ok\r\n");
  // The failure was answered after the throttle's delay.
  REQUIRE_FALSE(host.delays().empty());
  CHECK(host.delays().back() >= config.auth.failure_delay);
}

TEST_CASE_FIXTURE(SmtpFixture, "an AUTH line over the SASL limit gets 500 5.5.6") {
  TestHost host(connection("smtp", net::TlsMode::kStartTls, true));
  host.open(factory());
  host.take_output();
  host.feed("HELO c\r\nAUTH PLAIN\r\n" + std::string(Session::kMaxAuthLine + 10, 'A') +
            "\r\nNOOP\r\n");
  CHECK(host.take_output() ==
        "250 mx.example.org\r\n334 \r\n"
        "500 5.5.6 Error: authentication exchange line is too long\r\n250 2.0.0 Ok\r\n");
}

TEST_CASE_FIXTURE(SmtpFixture, "no password over plaintext except from loopback") {
  replay(std::string(kGreeting) + "C: EHLO c\n" + ehlo_reply({.starttls = true}) +
             line("C: AUTH PLAIN ", kBobPlain) +
             "S: 530 5.7.0 Must issue a STARTTLS command first\n",
         connection("smtp"), false);
  replay(std::string(kGreeting) + "C: EHLO c\n" + ehlo_reply({}) +
             line("C: AUTH PLAIN ", kBobPlain) + "S: 503 5.5.1 Error: authentication not enabled\n",
         connection("smtp", net::TlsMode::kNone), false);
}

TEST_CASE_FIXTURE(SmtpFixture, "STARTTLS drops what was pipelined behind it and starts over") {
  TestHost host(connection("smtp"));
  host.open(factory());
  host.take_output();
  host.feed("EHLO c\r\nSTARTTLS\r\nMAIL FROM:<evil@example.net>\r\nRCPT TO:<bob@example.org>\r\n");
  std::string out = host.take_output();
  CHECK(out.ends_with("250 SMTPUTF8\r\n220 2.0.0 Ready to start TLS\r\n"));
  CHECK(host.tls_active());
  // The injected commands were never answered, and the state is back to before EHLO.
  host.feed("MAIL FROM:<a@example.net>\r\n");
  CHECK(host.take_output() == "503 5.5.1 Error: send HELO/EHLO first\r\n");
  host.feed("EHLO c\r\nSTARTTLS\r\n");
  std::string ehlo = host.take_output();
  CHECK(ehlo.find("STARTTLS\r\n") == std::string::npos);
  CHECK(ehlo.find("250-AUTH PLAIN LOGIN\r\n") != std::string::npos);
  CHECK(ehlo.find("REQUIRETLS\r\n") != std::string::npos);
  CHECK(ehlo.ends_with("554 5.5.1 Error: TLS already active\r\n"));
}

TEST_CASE_FIXTURE(SmtpFixture, "STARTTLS where it cannot be") {
  replay(std::string(kGreeting) +
             "C: STARTTLS now\n"
             "S: 501 5.5.4 Syntax: STARTTLS\n"
             "C: STARTTLS\n"
             "S: 502 5.5.1 Error: command not implemented\n",
         connection("smtp", net::TlsMode::kNone), false);
  replay(std::string(kGreeting) +
             "C: STARTTLS\n"
             "S: 554 5.5.1 Error: TLS already active\n",
         connection("submissions", net::TlsMode::kImplicit, false, true), false);
}

TEST_CASE_FIXTURE(SmtpFixture, "submission: STARTTLS, then AUTH, then mail to anywhere") {
  play(std::string(kGreeting) + "C: EHLO c\n" + ehlo_reply({.starttls = true}) +
           "C: MAIL FROM:<bob@example.org>\n"
           "S: 530 5.7.0 Must issue a STARTTLS command first\n"
           "C: STARTTLS\n"
           "S: 220 2.0.0 Ready to start TLS\n"
           "C: EHLO c\n" +
           ehlo_reply({.auth = true, .requiretls = true}) +
           "C: MAIL FROM:<bob@example.org>\n"
           "S: 530 5.7.0 Authentication required\n" +
           line("C: AUTH PLAIN ", kBobPlain) +
           "S: 235 2.7.0 Authentication successful\n"
           "C: MAIL FROM:<carol@example.org>\n"
           "S: 553 5.7.1 <carol@example.org>: Sender address rejected: not owned by user "
           "bob@example.org\n"
           "C: MAIL FROM:<bob@example.org>\n"
           "C: RCPT TO:<friend@elsewhere.example>\n"
           "C: RCPT TO:<alice@example.org>\n"
           "C: DATA\n"
           "S: 250 2.1.0 Ok\n"
           "S: 250 2.1.5 Ok\n"
           "S: 250 2.1.5 Ok\n"
           "S: 354 End data with <CR><LF>.<CR><LF>\n"
           "C: Subject: out\n"
           "C: .\n"
           "S: 250 2.0.0 Ok: queued as 1\n",
       connection("submission"));
  std::vector<std::string> messages = inbox(kAlice);
  REQUIRE(messages.size() == 1);
  CHECK(trace_of(messages[0]) ==
        "Return-Path: <bob@example.org>\r\n"
        "Received: from c ([192.0.2.10])\r\n"
        "\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256 bits))\r\n"
        "\tby mx.example.org (Chapar) with ESMTPSA;\r\n"
        "\tFri, 01 Mar 2024 12:00:00 +0000\r\n");
  auto queue = store->queue_entries();
  REQUIRE(queue.has_value());
  REQUIRE(queue->size() == 1);
  const store::QueueEntry& entry = queue->front();
  CHECK(entry.sender == "bob@example.org");
  REQUIRE(entry.recipients.size() == 1);
  CHECK(entry.recipients[0].recipient.address == "friend@elsewhere.example");
  auto content = store->read(entry.message, 0, 1 << 20);
  REQUIRE(content.has_value());
  CHECK(*content == messages[0]);
}

TEST_CASE_FIXTURE(SmtpFixture, "submission from loopback needs AUTH but not TLS") {
  replay(std::string(kGreeting) + "C: EHLO c\n" + ehlo_reply({.starttls = true, .auth = true}) +
             "C: MAIL FROM:<bob@example.org>\n"
             "S: 530 5.7.0 Authentication required\n" +
             line("C: AUTH PLAIN ", kBobPlain) +
             "S: 235 2.7.0 Authentication successful\n"
             "C: MAIL FROM:<bob@example.org>\n"
             "S: 250 2.1.0 Ok\n",
         connection("submission", net::TlsMode::kStartTls, true), false);
}

TEST_CASE_FIXTURE(SmtpFixture, "submissions: DSN and REQUIRETLS stored with the queued message") {
  CHECK(converse(std::string("EHLO c\r\nAUTH PLAIN ") + kBobPlain +
                     "\r\n"
                     "MAIL FROM:<bob@example.org> RET=HDRS ENVID=env+2B1 REQUIRETLS "
                     "AUTH=bob+40example.org SIZE=100\r\n"
                     "RCPT TO:<x@remote.example> NOTIFY=SUCCESS,FAILURE "
                     "ORCPT=rfc822;x@remote.example\r\n"
                     "RCPT TO:<y@remote.example> NOTIFY=NEVER\r\n"
                     "RCPT TO:<z@remote.example>\r\n"
                     "BDAT 11 LAST\r\nSubject: \r\n",
                 connection("submissions", net::TlsMode::kImplicit, false, true))
            .ends_with("235 2.7.0 Authentication successful\r\n250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n"
                       "250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n250 2.0.0 Ok: queued as 1\r\n"));
  auto queue = store->queue_entries();
  REQUIRE(queue.has_value());
  REQUIRE(queue->size() == 1);
  const store::QueueEntry& entry = queue->front();
  CHECK(entry.dsn.ret == "HDRS");
  CHECK(entry.dsn.envid == "env+1");
  CHECK(entry.dsn.requiretls);
  REQUIRE(entry.recipients.size() == 3);
  CHECK(entry.recipients[0].recipient.address == "x@remote.example");
  CHECK(entry.recipients[0].recipient.notify == "SUCCESS,FAILURE");
  CHECK(entry.recipients[0].recipient.orcpt == "rfc822;x@remote.example");
  CHECK(entry.recipients[1].recipient.notify == "NEVER");
  CHECK(entry.recipients[2].recipient.notify.empty());
  CHECK(entry.recipients[2].recipient.orcpt.empty());
}

}  // namespace chapar::smtp::test
