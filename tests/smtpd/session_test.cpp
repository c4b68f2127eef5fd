// SPDX-License-Identifier: AGPL-3.0-or-later
// Session scripts for the commands outside a mail transaction, reply classes and limits.
#include "smtpd/session.hpp"

#include <doctest/doctest.h>

#include "tests/smtpd/smtp_fixture.hpp"

namespace chapar::smtp::test {

using chapar::test::TestHost;

TEST_CASE_FIXTURE(SmtpFixture, "greeting, EHLO, HELO and the commands that work anywhere") {
  replay(std::string(kGreeting) +
             "C: NOOP\n"
             "S: 250 2.0.0 Ok\n"
             "C: VRFY bob\n"
             "S: 252 2.0.0 Cannot VRFY user, but will accept message and attempt delivery\n"
             "C: RSET\n"
             "S: 250 2.0.0 Ok\n"
             "C: HELP\n"
             "S: 214-2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP "
             "STARTTLS AUTH\n"
             "S: 214 2.0.0 End of HELP info\n"
             "C: ehlo client.example.net\n" +
             ehlo_reply({.starttls = true}) +
             "C: HELO client.example.net\n"
             "S: 250 mx.example.org\n"
             "C: EHLO [192.0.2.10]\n" +
             ehlo_reply({.starttls = true}) +
             "C: noop anything\n"
             "S: 250 2.0.0 Ok\n"
             "C: QUIT\n"
             "S: 221 2.0.0 Bye\n",
         connection("smtp"), false);
}

TEST_CASE_FIXTURE(SmtpFixture, "EHLO advertises AUTH only where a password may travel") {
  // Loopback may authenticate without TLS; anywhere else TLS comes first.
  replay(std::string(kGreeting) + "C: EHLO c\n" + ehlo_reply({.starttls = true, .auth = true}),
         connection("smtp", net::TlsMode::kStartTls, true), false);
  replay(std::string(kGreeting) + "C: EHLO c\n" + ehlo_reply({}),
         connection("smtp", net::TlsMode::kNone), false);
  replay(std::string(kGreeting) + "C: EHLO c\n" + ehlo_reply({.auth = true, .requiretls = true}),
         connection("submissions", net::TlsMode::kImplicit, false, true), false);
}

TEST_CASE_FIXTURE(SmtpFixture, "500, 501, 502 and 503 where RFC 5321 puts them") {
  config.smtpd.max_errors = 50;
  replay(std::string(kGreeting) +
             "C: FOO\n"
             "S: 500 5.5.2 Error: command not recognized\n"
             "C: \n"
             "S: 500 5.5.2 Error: bad syntax\n"
             "C: EXPN staff\n"
             "S: 502 5.5.1 Error: command not implemented\n"
             "C: TURN\n"
             "S: 502 5.5.1 Error: command not implemented\n"
             "C: MAIL FROM:<a@example.net>\n"
             "S: 503 5.5.1 Error: send HELO/EHLO first\n"
             "C: AUTH PLAIN\n"
             "S: 503 5.5.1 Error: send HELO/EHLO first\n"
             "C: EHLO\n"
             "S: 501 5.5.4 Syntax: EHLO hostname\n"
             "C: HELO bad(name)\n"
             "S: 501 5.5.2 Error: invalid host name\n"
             "C: VRFY\n"
             "S: 501 5.5.4 Syntax: VRFY address\n"
             "C: EHLO c\n" +
             ehlo_reply({.starttls = true, .auth = true}) +
             "C: RCPT TO:<bob@example.org>\n"
             "S: 503 5.5.1 Error: need MAIL command\n"
             "C: DATA\n"
             "S: 503 5.5.1 Error: need MAIL command\n"
             "C: BDAT 0 LAST\n"
             "S: 503 5.5.1 Error: need MAIL command\n"
             "C: MAIL FROM:<a@example.net>\n"
             "S: 250 2.1.0 Ok\n"
             "C: MAIL FROM:<a@example.net>\n"
             "S: 503 5.5.1 Error: nested MAIL command\n"
             "C: DATA\n"
             "S: 503 5.5.1 Error: need RCPT command\n"
             "C: AUTH PLAIN\n"
             "S: 503 5.5.1 Error: MAIL transaction in progress\n"
             "C: STARTTLS\n"
             "S: 503 5.5.1 Error: MAIL transaction in progress\n"
             "C: RSET now\n"
             "S: 501 5.5.4 Syntax: RSET\n"
             "C: RSET\n"
             "S: 250 2.0.0 Ok\n"
             "C: DATA\n"
             "S: 503 5.5.1 Error: need MAIL command\n"
             "C: QUIT now\n"
             "S: 501 5.5.4 Syntax: QUIT\n"
             "C: QUIT\n"
             "S: 221 2.0.0 Bye\n",
         connection("smtp", net::TlsMode::kStartTls, true), false);
}

TEST_CASE_FIXTURE(SmtpFixture, "commands ending in a bare LF are understood") {
  TestHost host(connection("smtp"));
  host.open(factory());
  host.take_output();
  host.feed("NOOP\nEHLO c\nQUIT\n");
  std::string out = host.take_output();
  CHECK(out.rfind("250 2.0.0 Ok\r\n250-mx.example.org\r\n", 0) == 0);
  CHECK(out.find("221 2.0.0 Bye\r\n") != std::string::npos);
  CHECK(host.closed());
}

TEST_CASE_FIXTURE(SmtpFixture, "a command line over the limit gets 500 and the session goes on") {
  std::string just_fits(996, 'x');  // "NOOP " + 996 + CRLF = 1003 > 1000
  replay(std::string(kGreeting) + "C: NOOP " + std::string(993, 'x') +
             "\n"
             "S: 250 2.0.0 Ok\n"
             "C: NOOP " +
             just_fits +
             "\n"
             "S: 500 5.5.2 Error: line too long\n"
             "C: NOOP\n"
             "S: 250 2.0.0 Ok\n",
         connection("smtp"), false);

  // Beyond what any line may hold, the reader drops the rest without buffering it.
  TestHost host(connection("smtp"));
  host.open(factory());
  host.take_output();
  host.feed("NOOP " + std::string(100000, 'y') + "\r\nNOOP\r\n");
  CHECK(host.take_output() == "500 5.5.2 Error: line too long\r\n250 2.0.0 Ok\r\n");
  CHECK(host.session().buffered_input() == 0);
}

TEST_CASE_FIXTURE(SmtpFixture, "too many errors end the session with 421") {
  config.smtpd.max_errors = 3;
  replay(std::string(kGreeting) +
             "C: FOO\n"
             "C: BAR\n"
             "C: RCPT TO:<bob@example.org>\n"
             "C: NOOP\n"
             "S: 500 5.5.2 Error: command not recognized\n"
             "S: 500 5.5.2 Error: command not recognized\n"
             "S: 503 5.5.1 Error: send HELO/EHLO first\n"
             "S: 421 4.7.0 mx.example.org Error: too many errors\n",
         connection("smtp"), false);
}

TEST_CASE_FIXTURE(SmtpFixture, "idle timeout: 421 4.4.2, longer while data arrives") {
  TestHost host(connection("smtp", net::TlsMode::kStartTls, true));
  host.open(factory());
  host.take_output();
  CHECK(host.session().idle_timeout() == config.smtpd.command_timeout);
  host.feed("EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n");
  CHECK(host.take_output().ends_with("354 End data with <CR><LF>.<CR><LF>\r\n"));
  CHECK(host.session().idle_timeout() == config.smtpd.data_timeout);
  host.session().on_idle_timeout();
  CHECK(host.take_output() == "421 4.4.2 mx.example.org Error: timeout exceeded\r\n");
  CHECK(host.closed());
  CHECK(inbox(kBob).empty());
}

TEST_CASE_FIXTURE(SmtpFixture, "shutdown: 421 4.3.2 and close") {
  TestHost host(connection("smtp"));
  host.open(factory());
  host.take_output();
  host.feed("EHLO c\r\n");
  host.take_output();
  host.session().on_shutdown();
  CHECK(host.take_output() == "421 4.3.2 mx.example.org Service shutting down\r\n");
  CHECK(host.closed());
}

}  // namespace chapar::smtp::test
