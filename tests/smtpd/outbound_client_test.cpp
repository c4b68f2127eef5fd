// SPDX-License-Identifier: AGPL-3.0-or-later
// The SMTP client session as conversation scripts: "S:" lines are what the server sends,
// "C:" lines what the client must send. Each script is replayed block by block, then with
// the server's bytes split at every position, and byte by byte.
#include "smtpd/outbound/client_session.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace chapar::smtp::outbound::test {
namespace {

struct Script {
  std::vector<std::pair<char, std::string>> blocks;  // 'S' or 'C', with CRLF line ends
  std::string server() const {
    std::string out;
    for (const auto& [who, text] : blocks) {
      if (who == 'S') out += text;
    }
    return out;
  }
  std::string client() const {
    std::string out;
    for (const auto& [who, text] : blocks) {
      if (who == 'C') out += text;
    }
    return out;
  }
};

Script parse(std::string_view text) {
  Script script;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    REQUIRE(line.size() >= 3);
    char who = line[0];
    std::string content = std::string(line.substr(3)) + "\r\n";
    if (!script.blocks.empty() && script.blocks.back().first == who) {
      script.blocks.back().second += content;
    } else {
      script.blocks.emplace_back(who, content);
    }
  }
  return script;
}

MessageSource source_of(std::string content) {
  MessageSource source;
  source.size = content.size();
  auto shared = std::make_shared<std::string>(std::move(content));
  source.read = [shared](uint64_t offset, size_t length) -> Result<std::string> {
    return shared->substr(offset, length);
  };
  return source;
}

Envelope envelope_of(std::vector<std::string> recipients,
                     std::string sender = "alice@example.org") {
  Envelope envelope;
  envelope.sender = std::move(sender);
  for (auto& r : recipients) envelope.recipients.push_back(store::QueueRecipient{r, "", ""});
  return envelope;
}

ClientSettings default_settings() {
  ClientSettings settings;
  settings.helo_name = "mail.example.org";
  settings.data_chunk = 7;  // small, so that dot-stuffing meets chunk edges
  return settings;
}

// Takes everything the session has to say now, handling a TLS request as a handshake that
// succeeds at once.
std::string drain(ClientSession& session) {
  std::string out;
  for (int guard = 0; guard < 100000; ++guard) {
    out += session.take_output();
    if (session.take_tls_request()) {
      session.tls_started(true);
      continue;
    }
    if (!session.sending_data()) break;
  }
  return out;
}

struct Run {
  std::string transcript;
  SessionResult result;
  bool done = false;
};

using Factory = std::function<ClientSession()>;

// Feeds the server's bytes in the given pieces and collects the client's output.
Run run_pieces(const Factory& make, const std::vector<std::string>& pieces) {
  ClientSession session = make();
  Run run;
  run.transcript = drain(session);
  for (const std::string& piece : pieces) {
    session.receive(piece);
    run.transcript += drain(session);
  }
  run.result = session.result();
  run.done = session.done();
  return run;
}

// Replays the script every way and returns the result of the block-by-block run.
SessionResult replay(const Factory& make, std::string_view text, bool expect_done = true) {
  Script script = parse(text);
  // Block by block: what the client sends after each server block is the next C block.
  {
    ClientSession session = make();
    size_t i = 0;
    std::string before = drain(session);
    if (!script.blocks.empty() && script.blocks[0].first == 'C') {
      CHECK(before == script.blocks[0].second);
      i = 1;
    } else {
      CHECK(before.empty());
    }
    for (; i < script.blocks.size(); ++i) {
      REQUIRE(script.blocks[i].first == 'S');
      session.receive(script.blocks[i].second);
      std::string out = drain(session);
      std::string expected = i + 1 < script.blocks.size() && script.blocks[i + 1].first == 'C'
                                 ? script.blocks[i + 1].second
                                 : "";
      INFO("after server block " << i << ": " << script.blocks[i].second);
      CHECK(out == expected);
      if (!expected.empty()) ++i;
    }
    CHECK(session.done() == expect_done);
  }
  // Each server block split at every position (the rest fed block by block, since what
  // follows a 220 to STARTTLS in the same read is discarded).
  std::vector<std::string> blocks;
  for (const auto& [who, text] : script.blocks) {
    if (who == 'S') blocks.push_back(text);
  }
  for (size_t b = 0; b < blocks.size(); ++b) {
    for (size_t k = 1; k < blocks[b].size(); ++k) {
      std::vector<std::string> pieces(blocks.begin(), blocks.begin() + static_cast<long>(b));
      pieces.push_back(blocks[b].substr(0, k));
      pieces.push_back(blocks[b].substr(k));
      pieces.insert(pieces.end(), blocks.begin() + static_cast<long>(b) + 1, blocks.end());
      Run split = run_pieces(make, pieces);
      INFO("block " << b << " split at " << k);
      REQUIRE(split.transcript == script.client());
      REQUIRE(split.done == expect_done);
    }
  }
  std::string server = script.server();
  std::vector<std::string> bytes;
  for (char c : server) bytes.emplace_back(1, c);
  CHECK(run_pieces(make, bytes).transcript == script.client());
  // All at once, where no TLS handshake separates the server's words.
  SessionResult whole = run_pieces(make, blocks).result;
  if (script.client().find("STARTTLS\r\n") == std::string::npos) {
    Run at_once = run_pieces(make, {server});
    CHECK(at_once.transcript == script.client());
    whole = at_once.result;
  }
  return whole;
}

}  // namespace

TEST_CASE("pipelined transaction: one recipient refused, one delivered, dot-stuffing") {
  auto make = [] {
    return ClientSession(default_settings(), envelope_of({"bob@example.net", "nobody@example.net"}),
                         source_of("Subject: x\r\n\r\n.leading dot\r\n..two\r\nlast line"));
  };
  SessionResult result = replay(make,
                                "S: 220 mx.example.net ESMTP\n"
                                "C: EHLO mail.example.org\n"
                                "S: 250-mx.example.net\n"
                                "S: 250-PIPELINING\n"
                                "S: 250-SIZE 10000\n"
                                "S: 250 ENHANCEDSTATUSCODES\n"
                                "C: MAIL FROM:<alice@example.org> SIZE=44\n"
                                "C: RCPT TO:<bob@example.net>\n"
                                "C: RCPT TO:<nobody@example.net>\n"
                                "C: DATA\n"
                                "S: 250 2.1.0 Ok\n"
                                "S: 250 2.1.5 Ok\n"
                                "S: 550 5.1.1 <nobody@example.net>: no such user\n"
                                "S: 354 End data with <CR><LF>.<CR><LF>\n"
                                "C: Subject: x\n"
                                "C: \n"
                                "C: ..leading dot\n"
                                "C: ...two\n"
                                "C: last line\n"
                                "C: .\n"
                                "S: 250 2.0.0 Ok: queued as 42\n"
                                "C: QUIT\n"
                                "S: 221 2.0.0 Bye\n");
  REQUIRE(result.recipients.size() == 2);
  CHECK(result.recipients[0].outcome == Outcome::kDelivered);
  CHECK(result.recipients[0].reply == "250 2.0.0 Ok: queued as 42");
  CHECK(result.recipients[1].outcome == Outcome::kPermanent);
  CHECK(result.recipients[1].status == "5.1.1");
  CHECK(result.recipients[1].reply == "550 5.1.1 <nobody@example.net>: no such user");
  CHECK(result.recipients[1].remote);
  CHECK_FALSE(result.tls);
}

TEST_CASE("without PIPELINING one command at a time; all refused means no DATA") {
  auto make = [] {
    return ClientSession(default_settings(), envelope_of({"a@example.net", "b@example.net"}),
                         source_of("x\r\n"));
  };
  SessionResult result = replay(make,
                                "S: 220 mx ready\n"
                                "C: EHLO mail.example.org\n"
                                "S: 250 mx\n"
                                "C: MAIL FROM:<alice@example.org>\n"
                                "S: 250 ok\n"
                                "C: RCPT TO:<a@example.net>\n"
                                "S: 450 4.2.1 mailbox busy\n"
                                "C: RCPT TO:<b@example.net>\n"
                                "S: 550 no\n"
                                "C: QUIT\n"
                                "S: 221 bye\n");
  CHECK(result.recipients[0].outcome == Outcome::kTemporary);
  CHECK(result.recipients[0].status == "4.2.1");
  CHECK(result.recipients[1].outcome == Outcome::kPermanent);
  CHECK(result.recipients[1].status == "5.0.0");
}

TEST_CASE("EHLO refused: HELO, and no extensions are used") {
  auto make = [] {
    return ClientSession(default_settings(), envelope_of({"a@example.net"}), source_of("x\r\n"));
  };
  SessionResult result = replay(make,
                                "S: 220 old server\n"
                                "C: EHLO mail.example.org\n"
                                "S: 502 command not implemented\n"
                                "C: HELO mail.example.org\n"
                                "S: 250 hello\n"
                                "C: MAIL FROM:<alice@example.org>\n"
                                "S: 250 ok\n"
                                "C: RCPT TO:<a@example.net>\n"
                                "S: 250 ok\n"
                                "C: DATA\n"
                                "S: 354 go\n"
                                "C: x\n"
                                "C: .\n"
                                "S: 250 ok\n"
                                "C: QUIT\n"
                                "S: 221 bye\n");
  CHECK(result.recipients[0].outcome == Outcome::kDelivered);
}

TEST_CASE("STARTTLS when offered, EHLO again after the handshake") {
  auto make = [] {
    return ClientSession(default_settings(), envelope_of({"a@example.net"}), source_of("x\r\n"));
  };
  SessionResult result = replay(make,
                                "S: 220 mx\n"
                                "C: EHLO mail.example.org\n"
                                "S: 250-mx\n"
                                "S: 250 STARTTLS\n"
                                "C: STARTTLS\n"
                                "S: 220 2.0.0 go ahead\n"
                                "C: EHLO mail.example.org\n"
                                "S: 250-mx\n"
                                "S: 250 PIPELINING\n"
                                "C: MAIL FROM:<alice@example.org>\n"
                                "C: RCPT TO:<a@example.net>\n"
                                "C: DATA\n"
                                "S: 250 ok\n"
                                "S: 250 ok\n"
                                "S: 354 go\n"
                                "C: x\n"
                                "C: .\n"
                                "S: 250 ok\n"
                                "C: QUIT\n"
                                "S: 221 bye\n");
  CHECK(result.tls);
  CHECK(result.recipients[0].outcome == Outcome::kDelivered);
}

TEST_CASE("STARTTLS refused: plaintext when opportunistic, no mail when required") {
  std::string start =
      "S: 220 mx\n"
      "C: EHLO mail.example.org\n"
      "S: 250-mx\n"
      "S: 250 STARTTLS\n"
      "C: STARTTLS\n"
      "S: 454 4.7.0 TLS not available\n";
  auto opportunistic = [] {
    return ClientSession(default_settings(), envelope_of({"a@example.net"}), source_of("x\r\n"));
  };
  SessionResult plain = replay(opportunistic, start +
                                                  "C: MAIL FROM:<alice@example.org>\n"
                                                  "S: 250 ok\n"
                                                  "C: RCPT TO:<a@example.net>\n"
                                                  "S: 250 ok\n"
                                                  "C: DATA\n"
                                                  "S: 354 go\n"
                                                  "C: x\n"
                                                  "C: .\n"
                                                  "S: 250 ok\n"
                                                  "C: QUIT\n"
                                                  "S: 221 bye\n");
  CHECK(plain.recipients[0].outcome == Outcome::kDelivered);
  CHECK_FALSE(plain.tls);

  auto required = [] {
    ClientSettings settings = default_settings();
    settings.tls = TlsPolicy::kRequired;
    return ClientSession(settings, envelope_of({"a@example.net"}), source_of("x\r\n"));
  };
  SessionResult refused = replay(required, start +
                                               "C: QUIT\n"
                                               "S: 221 bye\n");
  CHECK(refused.recipients[0].outcome == Outcome::kTemporary);
  CHECK(refused.recipients[0].reply == "454 4.7.0 TLS not available");

  SessionResult not_offered = replay(required,
                                     "S: 220 mx\n"
                                     "C: EHLO mail.example.org\n"
                                     "S: 250 mx\n"
                                     "C: QUIT\n"
                                     "S: 221 bye\n");
  CHECK(not_offered.recipients[0].outcome == Outcome::kTemporary);
  CHECK(not_offered.recipients[0].status == "4.7.10");
}

TEST_CASE("a disabled TLS policy never sends STARTTLS") {
  auto make = [] {
    ClientSettings settings = default_settings();
    settings.tls = TlsPolicy::kNone;
    return ClientSession(settings, envelope_of({"a@example.net"}), source_of(""));
  };
  SessionResult result = replay(make,
                                "S: 220 mx\n"
                                "C: EHLO mail.example.org\n"
                                "S: 250-mx\n"
                                "S: 250 STARTTLS\n"
                                "C: MAIL FROM:<alice@example.org>\n"
                                "S: 250 ok\n"
                                "C: RCPT TO:<a@example.net>\n"
                                "S: 250 ok\n"
                                "C: DATA\n"
                                "S: 354 go\n"
                                "C: .\n"
                                "S: 250 ok\n"
                                "C: QUIT\n"
                                "S: 221 bye\n");
  CHECK(result.recipients[0].outcome == Outcome::kDelivered);
}

TEST_CASE("AUTH PLAIN and AUTH LOGIN with a smarthost's credentials, only under TLS") {
  auto with_credentials = [](bool implicit) {
    ClientSettings settings = default_settings();
    settings.tls = TlsPolicy::kRequired;
    settings.implicit_tls = implicit;
    settings.credentials = auth::Credentials{"relay-user", "s3cret"};
    return settings;
  };
  auto plain = [&] {
    return ClientSession(with_credentials(true), envelope_of({"a@example.net"}),
                         source_of("x\r\n"));
  };
  // \0relay-user\0s3cret
  SessionResult result = replay(plain,
                                "S: 220 smarthost\n"
                                "C: EHLO mail.example.org\n"
                                "S: 250-smarthost\n"
                                "S: 250 AUTH LOGIN PLAIN\n"
                                "C: AUTH PLAIN AHJlbGF5LXVzZXIAczNjcmV0\n"
                                "S: 235 2.7.0 Authentication successful\n"
                                "C: MAIL FROM:<alice@example.org>\n"
                                "S: 250 ok\n"
                                "C: RCPT TO:<a@example.net>\n"
                                "S: 250 ok\n"
                                "C: DATA\n"
                                "S: 354 go\n"
                                "C: x\n"
                                "C: .\n"
                                "S: 250 ok\n"
                                "C: QUIT\n"
                                "S: 221 bye\n");
  CHECK(result.recipients[0].outcome == Outcome::kDelivered);

  auto login = [&] {
    return ClientSession(with_credentials(false), envelope_of({"a@example.net"}),
                         source_of("x\r\n"));
  };
  SessionResult failed = replay(login,
                                "S: 220 smarthost\n"
                                "C: EHLO mail.example.org\n"
                                "S: 250-smarthost\n"
                                "S: 250 STARTTLS\n"
                                "C: STARTTLS\n"
                                "S: 220 go ahead\n"
                                "C: EHLO mail.example.org\n"
                                "S: 250-smarthost\n"
                                "S: 250 AUTH=LOGIN\n"
                                "C: AUTH LOGIN\n"
                                "S: 334 VXNlcm5hbWU6\n"
                                "C: cmVsYXktdXNlcg==\n"
                                "S: 334 UGFzc3dvcmQ6\n"
                                "C: czNjcmV0\n"
                                "S: 535 5.7.8 Authentication credentials invalid\n"
                                "C: QUIT\n"
                                "S: 221 bye\n");
  CHECK(failed.recipients[0].outcome == Outcome::kTemporary);
  CHECK(failed.recipients[0].status == "4.7.8");
}

TEST_CASE("no password over plaintext unless TLS was turned off") {
  auto make = [] {
    ClientSettings settings = default_settings();
    settings.credentials = auth::Credentials{"u", "p"};
    return ClientSession(settings, envelope_of({"a@example.net"}), source_of(""));
  };
  replay(make,
         "S: 220 mx\n"
         "C: EHLO mail.example.org\n"
         "S: 250-mx\n"
         "S: 250 AUTH PLAIN\n"
         "C: MAIL FROM:<alice@example.org>\n"
         "S: 421 4.3.2 shutting down\n"
         "C: QUIT\n",
         false);
}

TEST_CASE("SIZE, SMTPUTF8 and REQUIRETLS decide before MAIL") {
  auto big = [] {
    return ClientSession(default_settings(), envelope_of({"a@example.net"}),
                         source_of(std::string(200, 'x')));
  };
  SessionResult too_big = replay(big,
                                 "S: 220 mx\n"
                                 "C: EHLO mail.example.org\n"
                                 "S: 250-mx\n"
                                 "S: 250 SIZE 100\n"
                                 "C: QUIT\n"
                                 "S: 221 bye\n");
  CHECK(too_big.recipients[0].outcome == Outcome::kPermanent);
  CHECK(too_big.recipients[0].status == "5.3.4");

  auto utf8 = [] {
    return ClientSession(default_settings(), envelope_of({"j\xC3\xB6rg@example.net"}),
                         source_of("x\r\n"));
  };
  SessionResult no_utf8 = replay(utf8,
                                 "S: 220 mx\n"
                                 "C: EHLO mail.example.org\n"
                                 "S: 250 mx\n"
                                 "C: QUIT\n"
                                 "S: 221 bye\n");
  CHECK(no_utf8.recipients[0].outcome == Outcome::kPermanent);
  CHECK(no_utf8.recipients[0].status == "5.6.7");
  SessionResult with_utf8 = replay(utf8,
                                   "S: 220 mx\n"
                                   "C: EHLO mail.example.org\n"
                                   "S: 250-mx\n"
                                   "S: 250-8BITMIME\n"
                                   "S: 250 SMTPUTF8\n"
                                   "C: MAIL FROM:<alice@example.org> SMTPUTF8\n"
                                   "S: 250 ok\n"
                                   "C: RCPT TO:<j\xC3\xB6rg@example.net>\n"
                                   "S: 250 ok\n"
                                   "C: DATA\n"
                                   "S: 354 go\n"
                                   "C: x\n"
                                   "C: .\n"
                                   "S: 250 ok\n"
                                   "C: QUIT\n"
                                   "S: 221 bye\n");
  CHECK(with_utf8.recipients[0].outcome == Outcome::kDelivered);

  auto requiretls = [] {
    Envelope envelope = envelope_of({"a@example.net"});
    envelope.dsn.requiretls = true;
    return ClientSession(default_settings(), envelope, source_of("x\r\n"));
  };
  SessionResult no_tls = replay(requiretls,
                                "S: 220 mx\n"
                                "C: EHLO mail.example.org\n"
                                "S: 250 mx\n"
                                "C: QUIT\n"
                                "S: 221 bye\n");
  CHECK(no_tls.recipients[0].outcome == Outcome::kPermanent);
  CHECK(no_tls.recipients[0].status == "5.7.30");
}

TEST_CASE("DSN parameters and BODY=8BITMIME go along when the server supports them") {
  auto make = [] {
    Envelope envelope = envelope_of({"a@example.net"});
    envelope.recipients[0].notify = "SUCCESS,FAILURE";
    envelope.recipients[0].orcpt = "rfc822;a+2Bx@example.net";
    envelope.dsn.ret = "HDRS";
    envelope.dsn.envid = "id 1";
    MessageSource source = source_of("caf\xC3\xA9\r\n");
    source.eight_bit = true;
    return ClientSession(default_settings(), envelope, source);
  };
  SessionResult result =
      replay(make,
             "S: 220 mx\n"
             "C: EHLO mail.example.org\n"
             "S: 250-mx\n"
             "S: 250-DSN\n"
             "S: 250-8BITMIME\n"
             "S: 250 PIPELINING\n"
             "C: MAIL FROM:<alice@example.org> BODY=8BITMIME RET=HDRS ENVID=id+201\n"
             "C: RCPT TO:<a@example.net> NOTIFY=SUCCESS,FAILURE "
             "ORCPT=rfc822;a+2Bx@example.net\n"
             "C: DATA\n"
             "S: 250 ok\n"
             "S: 250 ok\n"
             "S: 354 go\n"
             "C: caf\xC3\xA9\n"
             "C: .\n"
             "S: 250 ok\n"
             "C: QUIT\n"
             "S: 221 bye\n");
  CHECK(result.dsn_supported);
  CHECK(result.recipients[0].outcome == Outcome::kDelivered);
}

TEST_CASE("refusals at the greeting, at MAIL and at the end of data") {
  auto make = [] {
    return ClientSession(default_settings(), envelope_of({"a@example.net", "b@example.net"}),
                         source_of("x\r\n"));
  };
  SessionResult greeting = replay(make,
                                  "S: 554 5.7.1 go away\n"
                                  "C: QUIT\n"
                                  "S: 221 bye\n");
  // Another host, or a later try, may take it.
  CHECK(greeting.recipients[0].outcome == Outcome::kTemporary);
  CHECK(greeting.recipients[0].status == "4.7.1");

  SessionResult mail = replay(make,
                              "S: 220 mx\n"
                              "C: EHLO mail.example.org\n"
                              "S: 250-mx\n"
                              "S: 250 PIPELINING\n"
                              "C: MAIL FROM:<alice@example.org>\n"
                              "C: RCPT TO:<a@example.net>\n"
                              "C: RCPT TO:<b@example.net>\n"
                              "C: DATA\n"
                              "S: 553 5.1.8 sender domain unknown\n"
                              "S: 503 5.5.1 need MAIL\n"
                              "S: 503 5.5.1 need MAIL\n"
                              "S: 503 5.5.1 need RCPT\n"
                              "C: QUIT\n"
                              "S: 221 bye\n");
  CHECK(mail.recipients[0].outcome == Outcome::kPermanent);
  CHECK(mail.recipients[1].reply == "553 5.1.8 sender domain unknown");

  SessionResult data_end = replay(make,
                                  "S: 220 mx\n"
                                  "C: EHLO mail.example.org\n"
                                  "S: 250-mx\n"
                                  "S: 250 PIPELINING\n"
                                  "C: MAIL FROM:<alice@example.org>\n"
                                  "C: RCPT TO:<a@example.net>\n"
                                  "C: RCPT TO:<b@example.net>\n"
                                  "C: DATA\n"
                                  "S: 250 ok\n"
                                  "S: 250 ok\n"
                                  "S: 550 5.1.1 unknown\n"
                                  "S: 354 go\n"
                                  "C: x\n"
                                  "C: .\n"
                                  "S: 451-4.3.0 try\n"
                                  "S: 451 4.3.0 again later\n"
                                  "C: QUIT\n"
                                  "S: 221 bye\n");
  CHECK(data_end.recipients[0].outcome == Outcome::kTemporary);
  CHECK(data_end.recipients[0].reply == "451 4.3.0 try again later");
  CHECK(data_end.recipients[1].outcome == Outcome::kPermanent);
}

TEST_CASE("DATA accepted after every recipient was refused ends with an empty message") {
  auto make = [] {
    return ClientSession(default_settings(), envelope_of({"a@example.net"}), source_of("x\r\n"));
  };
  SessionResult result = replay(make,
                                "S: 220 mx\n"
                                "C: EHLO mail.example.org\n"
                                "S: 250-mx\n"
                                "S: 250 PIPELINING\n"
                                "C: MAIL FROM:<alice@example.org>\n"
                                "C: RCPT TO:<a@example.net>\n"
                                "C: DATA\n"
                                "S: 250 ok\n"
                                "S: 550 no\n"
                                "S: 354 go\n"
                                "C: .\n"
                                "S: 554 no valid recipients\n"
                                "C: QUIT\n"
                                "S: 221 bye\n");
  CHECK(result.recipients[0].outcome == Outcome::kPermanent);
  CHECK(result.recipients[0].reply == "550 no");
}

TEST_CASE("lost connections, timeouts and garbage leave recipients temporary") {
  Envelope envelope = envelope_of({"a@example.net"});
  {
    ClientSession session(default_settings(), envelope, source_of("x\r\n"));
    CHECK(session.timeout() == std::chrono::minutes(5));
    session.receive("220 mx\r\n");
    CHECK(drain(session) == "EHLO mail.example.org\r\n");
    session.receive("250 mx\r\n");
    CHECK(drain(session) == "MAIL FROM:<alice@example.org>\r\n");
    session.connection_lost("connection reset by peer");
    CHECK(session.done());
    CHECK(session.result().recipients[0].outcome == Outcome::kTemporary);
    CHECK(session.result().recipients[0].reply == "connection reset by peer");
    CHECK_FALSE(session.result().recipients[0].remote);
  }
  {
    ClientSession session(default_settings(), envelope, source_of("x\r\n"));
    session.receive("220 mx\r\n");
    session.take_output();
    session.receive("250-mx\r\n250 STARTTLS\r\n");
    CHECK(session.take_output() == "STARTTLS\r\n");
    session.receive("220 go\r\n");
    CHECK(session.take_tls_request());
    session.connection_lost("handshake failed");
    CHECK(session.result().tls_failed);
    CHECK(session.done());
  }
  {
    ClientSession session(default_settings(), envelope, source_of("x\r\n"));
    session.receive("220 mx\r\n250 mx\r\n250 ok\r\n250 ok\r\n");
    drain(session);
    CHECK(session.timeout() == std::chrono::minutes(2));  // RFC 5321 §4.5.3.2.4
    session.receive("354 go\r\n");
    CHECK(session.timeout() == std::chrono::minutes(3));
    drain(session);
    CHECK(session.timeout() == std::chrono::minutes(10));
    session.timed_out();
    CHECK(session.done());
    CHECK(session.result().recipients[0].outcome == Outcome::kTemporary);
  }
  {
    ClientSession session(default_settings(), envelope, source_of("x\r\n"));
    session.receive("220 mx\r\nthis is not smtp\r\n");
    CHECK(session.done());
    CHECK(session.result().recipients[0].outcome == Outcome::kTemporary);
  }
}

TEST_CASE("a message that cannot be read ends the connection without a final dot") {
  MessageSource source = source_of("x\r\n");
  source.read = [](uint64_t, size_t) -> Result<std::string> {
    return fail(Errc::kIo, "disk error");
  };
  ClientSession session(default_settings(), envelope_of({"a@example.net"}), source);
  session.receive("220 mx\r\n250 mx\r\n250 ok\r\n250 ok\r\n354 go\r\n");
  std::string out = drain(session);
  CHECK(out.find("\r\n.\r\n") == std::string::npos);
  CHECK(session.done());
  CHECK(session.result().recipients[0].outcome == Outcome::kTemporary);
  CHECK(session.result().recipients[0].status == "4.3.0");
}

TEST_CASE("reply reader: multi-line replies, enhanced codes, bare LF, malformed input") {
  ReplyReader reader;
  reader.feed("250-first\r\n250-2.1.0 second\n250 last\r\n421 4.4.2 bye\r\n55");
  auto a = reader.next();
  REQUIRE(a);
  REQUIRE(a->has_value());
  CHECK((*a)->code == 250);
  CHECK((*a)->lines.size() == 3);
  CHECK((*a)->enhanced.empty());
  auto b = reader.next();
  REQUIRE(b);
  CHECK((*b)->enhanced == "4.4.2");
  CHECK((*b)->text() == "421 4.4.2 bye");
  CHECK_FALSE(reader.next());
  reader.feed("0 5.1.1 no\r\n");
  auto c = reader.next();
  REQUIRE(c);
  CHECK((*c)->status() == "5.1.1");

  ReplyReader mixed;
  mixed.feed("250-a\r\n251 b\r\n");
  auto d = mixed.next();
  REQUIRE(d);
  CHECK_FALSE(d->has_value());

  ReplyReader longline(ReplyLimits{16, 10});
  longline.feed(std::string(40, '2'));
  auto e = longline.next();
  REQUIRE(e);
  CHECK_FALSE(e->has_value());

  ServerReply ehlo;
  ehlo.code = 250;
  ehlo.lines = {"mx hello",   "SIZE 1000", "AUTH PLAIN login", "auth=LOGIN", "STARTTLS",
                "pipelining", "DSN",       "SMTPUTF8",         "8BITMIME",   "X-UNKNOWN 1"};
  Capabilities caps = parse_capabilities(ehlo);
  CHECK(caps.size == 1000u);
  CHECK(caps.offers_auth("LOGIN"));
  CHECK(caps.offers_auth("plain"));
  CHECK(caps.starttls);
  CHECK(caps.pipelining);
  CHECK(caps.dsn);
  CHECK(caps.smtputf8);
  CHECK(caps.eight_bit_mime);
  CHECK_FALSE(caps.requiretls);
}

}  // namespace chapar::smtp::outbound::test
