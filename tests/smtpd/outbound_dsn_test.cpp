// SPDX-License-Identifier: AGPL-3.0-or-later
// Delivery status notifications as RFC 3464 and RFC 6522 describe them.
#include "smtpd/outbound/dsn.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

namespace chapar::smtp::outbound::test {
namespace {

MessageSource source_of(std::string content) {
  MessageSource source;
  source.size = content.size();
  auto shared = std::make_shared<std::string>(std::move(content));
  source.read = [shared](uint64_t offset, size_t length) -> Result<std::string> {
    return shared->substr(offset, length);
  };
  return source;
}

const std::string kOriginal =
    "Received: from client by mail.example.org\r\n"
    "From: Alice <alice@example.org>\r\n"
    "Subject: lunch\r\n"
    "\r\n"
    "Shall we?\r\n";

DsnReport report(DsnAction action) {
  DsnReport r;
  r.reporting_mta = "mail.example.org";
  r.sender = "alice@example.org";
  r.envid = "queue-42";
  r.arrival_date = 1700000000;
  r.now = 1700000100;
  r.retry_until = 1700432000;
  r.boundary = "=_boundary";
  r.message_id = "<token@mail.example.org>";
  DsnRecipient bob;
  bob.address = "bob@example.net";
  bob.orcpt = "rfc822;Bob+2Bx@example.net";
  bob.action = action;
  bob.status = action == DsnAction::kFailed ? "5.1.1" : "4.3.0";
  bob.reply = action == DsnAction::kFailed ? "550 5.1.1 no such user" : "451 4.3.0 later";
  bob.remote = true;
  bob.remote_mta = "mx.example.net";
  DsnRecipient carol;
  carol.address = "carol@example.net";
  carol.action = action;
  carol.status = action == DsnAction::kFailed ? "5.1.2" : "4.4.3";
  carol.reply = "domain example.net does not exist";
  r.recipients = {bob, carol};
  return r;
}

std::string compose(const DsnReport& r, const std::string& original = kOriginal) {
  store::Spool spool("/nonexistent", 1 << 20);
  REQUIRE(compose_dsn(r, source_of(original), spool).has_value());
  REQUIRE(spool.finish().has_value());
  return std::string(spool.view());
}

// The text of each MIME part between the boundaries.
std::vector<std::string> parts(const std::string& message, const std::string& boundary) {
  std::vector<std::string> out;
  std::string delimiter = "\r\n--" + boundary;
  size_t pos = message.find(delimiter);
  while (pos != std::string::npos) {
    size_t start = message.find("\r\n", pos + 2) + 2;
    size_t next = message.find(delimiter, start);
    if (message.compare(pos + delimiter.size(), 2, "--") == 0) break;
    out.push_back(message.substr(start, next - start));
    pos = next;
  }
  return out;
}

}  // namespace

TEST_CASE("a failure report: header, human part, delivery-status, the whole original") {
  DsnReport r = report(DsnAction::kFailed);
  r.return_full = true;
  std::string dsn = compose(r);
  CHECK(dsn.find("From: Mail Delivery System <MAILER-DAEMON@mail.example.org>\r\n") == 0);
  CHECK(dsn.find("\r\nTo: <alice@example.org>\r\n") != std::string::npos);
  CHECK(dsn.find("\r\nSubject: Undelivered Mail Returned to Sender\r\n") != std::string::npos);
  CHECK(dsn.find("\r\nDate: Tue, 14 Nov 2023 22:15:00 +0000\r\n") != std::string::npos);
  CHECK(dsn.find("\r\nMessage-ID: <token@mail.example.org>\r\n") != std::string::npos);
  CHECK(dsn.find("\r\nAuto-Submitted: auto-replied\r\n") != std::string::npos);
  CHECK(dsn.find("Content-Type: multipart/report; report-type=delivery-status;\r\n"
                 "\tboundary=\"=_boundary\"\r\n") != std::string::npos);
  CHECK(dsn.substr(dsn.size() - 18) == "\r\n--=_boundary--\r\n");

  std::vector<std::string> p = parts(dsn, "=_boundary");
  REQUIRE(p.size() == 3);
  CHECK(p[0].find("Content-Type: text/plain; charset=utf-8\r\n") != std::string::npos);
  CHECK(p[0].find("<bob@example.net>: host mx.example.net said: 550 5.1.1 no such user\r\n") !=
        std::string::npos);
  CHECK(p[0].find("<carol@example.net>: domain example.net does not exist\r\n") !=
        std::string::npos);

  CHECK(p[1] ==
        "Content-Description: Delivery report\r\n"
        "Content-Type: message/delivery-status\r\n"
        "\r\n"
        "Reporting-MTA: dns; mail.example.org\r\n"
        "Original-Envelope-Id: queue-42\r\n"
        "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
        "\r\n"
        "Original-Recipient: rfc822; Bob+x@example.net\r\n"
        "Final-Recipient: rfc822; bob@example.net\r\n"
        "Action: failed\r\n"
        "Status: 5.1.1\r\n"
        "Remote-MTA: dns; mx.example.net\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
        "Last-Attempt-Date: Tue, 14 Nov 2023 22:15:00 +0000\r\n"
        "\r\n"
        "Final-Recipient: rfc822; carol@example.net\r\n"
        "Action: failed\r\n"
        "Status: 5.1.2\r\n"
        "Last-Attempt-Date: Tue, 14 Nov 2023 22:15:00 +0000\r\n");

  CHECK(p[2] ==
        "Content-Description: Undelivered Message\r\n"
        "Content-Type: message/rfc822\r\n"
        "\r\n" +
            kOriginal);
}

TEST_CASE("a delay report carries the header only and says until when") {
  DsnReport r = report(DsnAction::kDelayed);
  std::string dsn = compose(r);
  CHECK(dsn.find("Subject: Delayed Mail (still being retried)\r\n") != std::string::npos);
  std::vector<std::string> p = parts(dsn, "=_boundary");
  REQUIRE(p.size() == 3);
  CHECK(p[0].find("until Sun, 19 Nov 2023 22:13:20 +0000") != std::string::npos);
  CHECK(p[1].find("Action: delayed\r\nStatus: 4.3.0\r\n") != std::string::npos);
  CHECK(p[1].find("Will-Retry-Until: Sun, 19 Nov 2023 22:13:20 +0000\r\n") != std::string::npos);
  CHECK(p[2] ==
        "Content-Description: Message Headers\r\n"
        "Content-Type: text/rfc822-headers\r\n"
        "\r\n"
        "Received: from client by mail.example.org\r\n"
        "From: Alice <alice@example.org>\r\n"
        "Subject: lunch\r\n"
        "\r\n");
}

TEST_CASE("UTF-8 addresses make a global report (RFC 6533); long replies are folded") {
  DsnReport r = report(DsnAction::kFailed);
  r.recipients[0].address = "j\xC3\xB6rg@example.net";
  r.recipients[0].reply = "550 5.1.1 " + std::string(200, 'x') + " " + std::string(10, 'y');
  std::string dsn = compose(r, "Subject: no body and no final line break");
  CHECK(dsn.find("report-type=global-delivery-status;") != std::string::npos);
  CHECK(dsn.find("Content-Type: message/global-delivery-status\r\n") != std::string::npos);
  CHECK(dsn.find("Final-Recipient: utf-8; j\xC3\xB6rg@example.net\r\n") != std::string::npos);
  CHECK(dsn.find("Content-Type: message/global-headers\r\n") != std::string::npos);
  CHECK(dsn.find("Diagnostic-Code: smtp; 550 5.1.1\r\n\t" + std::string(200, 'x') + "\r\n\tyyy") !=
        std::string::npos);
  CHECK(dsn.find("Subject: no body and no final line break\r\n\r\n\r\n--=_boundary--") !=
        std::string::npos);
}

TEST_CASE("header blocks and header values") {
  auto header = read_header_block(source_of(kOriginal), 1000);
  REQUIRE(header.has_value());
  CHECK(*header == kOriginal.substr(0, kOriginal.find("\r\n\r\n") + 4));
  auto limited = read_header_block(source_of(kOriginal), 20);
  REQUIRE(limited.has_value());
  CHECK(*limited == "Received: from clien\r\n\r\n");
  CHECK(header_value("Subject: a\r\n\tb\r\nFrom: x\r\n\r\n", "subject") == "a b");
  CHECK(header_value("From: x\r\n\r\n", "To").empty());
}

}  // namespace chapar::smtp::outbound::test
