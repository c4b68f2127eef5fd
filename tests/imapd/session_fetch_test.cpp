// SPDX-License-Identifier: AGPL-3.0-or-later
// FETCH and UID FETCH: attributes, sections, BINARY, \Seen, CHANGEDSINCE, and answers that
// stream while the peer reads.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "tests/imapd/imap_fixture.hpp"

namespace chapar::imap::test {
namespace {

const std::string kSelect = "C: s SELECT INBOX\n";

// Logs in, selects INBOX and drops the answers.
std::unique_ptr<chapar::test::TestHost> selected(ImapFixture& f,
                                                 chapar::test::TestHost::Options o = {}) {
  auto host = f.open(o);
  host->feed("l LOGIN alice@example.org secret\r\ns SELECT INBOX\r\n");
  host->take_output();
  return host;
}

TEST_CASE("imap: FETCH of flags, dates, sizes, envelope and structure") {
  ImapFixture f;
  auto host = selected(f);
  const std::string m1 = kMessages[0];
  f.converse(*host, fmt::format(R"(C: a FETCH 1 (UID FLAGS INTERNALDATE RFC822.SIZE)
S: * 1 FETCH (UID 1 FLAGS () INTERNALDATE "01-Mar-2024 12:00:00 +0000" RFC822.SIZE {0})
S: a OK Fetch completed.
C: b FETCH 1 ENVELOPE
S: * 1 FETCH (ENVELOPE ("Fri, 1 Mar 2024 10:00:00 +0000" "one" (("Bob" NIL "bob" "example.net")) (("Bob" NIL "bob" "example.net")) (("Bob" NIL "bob" "example.net")) ((NIL NIL "alice" "example.org")) NIL NIL NIL "<1@example.net>"))
S: b OK Fetch completed.
C: c FETCH 2 BODYSTRUCTURE
S: * 2 FETCH (BODYSTRUCTURE (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 0 NIL NIL NIL NIL)("application" "octet-stream" NIL NIL NIL "base64" 4 NIL NIL NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL))
S: c OK Fetch completed.
C: d FETCH 2 BODY
S: * 2 FETCH (BODY (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 0)("application" "octet-stream" NIL NIL NIL "base64" 4) "mixed"))
S: d OK Fetch completed.
C: e FETCH 3 FAST
S: * 3 FETCH (FLAGS () INTERNALDATE "01-Mar-2024 12:00:00 +0000" RFC822.SIZE {1})
S: e OK Fetch completed.
C: f UID FETCH 2:* (FLAGS)
S: * 2 FETCH (UID 2 FLAGS ())
S: * 3 FETCH (UID 3 FLAGS ())
S: f OK Fetch completed.
C: g UID FETCH 10:* (FLAGS)
S: * 3 FETCH (UID 3 FLAGS ())
S: g OK Fetch completed.
C: h FETCH 4 FLAGS
S: h BAD Invalid message sequence number.
C: i FETCH 1 (FLAGS) (VANISHED)
S: i BAD VANISHED requires CHANGEDSINCE.
C: j FETCH 1 BODY[5.MIME]<1>
S: j BAD Invalid fetch attribute BODY[5.MIME]<1>.
)",
                                m1.size(), kMessages[2].size()));
}

// What the session answers to one command.
std::string exchange(chapar::test::TestHost& host, std::string_view command) {
  host.feed(command);
  return host.take_output();
}

std::string literal(std::string_view bytes) {
  return fmt::format("{{{}}}\r\n{}", bytes.size(), bytes);
}

TEST_CASE("imap: FETCH of sections, partial and PEEK, and the \\Seen they set") {
  ImapFixture f;
  auto host = selected(f);
  const std::string& m3 = kMessages[2];
  const size_t body = m3.find("\r\n\r\n") + 4;
  const std::string header = m3.substr(0, body);
  const std::string text = m3.substr(body);
  CHECK(exchange(*host,
                 "a FETCH 3 (BODY.PEEK[HEADER.FIELDS (Subject FROM)] BODY.PEEK[TEXT]<2.4>)\r\n") ==
        "* 3 FETCH (BODY[HEADER.FIELDS (SUBJECT FROM)] " +
            literal("From: bob@example.net\r\nSubject: three\r\n\r\n") + " BODY[TEXT]<2> " +
            literal("ne 1") + ")\r\na OK Fetch completed.\r\n");
  CHECK(exchange(*host, "b FETCH 3 (RFC822.HEADER BODY.PEEK[HEADER.FIELDS.NOT (To From)])\r\n") ==
        "* 3 FETCH (RFC822.HEADER " + literal(header) + " BODY[HEADER.FIELDS.NOT (TO FROM)] " +
            literal("Subject: three\r\n\r\n") + ")\r\nb OK Fetch completed.\r\n");
  // Without PEEK, \Seen is set and told in the same response.
  CHECK(exchange(*host, "c FETCH 3 BODY[TEXT]\r\n") ==
        "* 3 FETCH (BODY[TEXT] " + literal(text) + " FLAGS (\\Seen))\r\nc OK Fetch completed.\r\n");
  CHECK(exchange(*host, "d FETCH 3 (FLAGS BODY[1])\r\n") ==
        "* 3 FETCH (FLAGS (\\Seen) BODY[1] " + literal(text) + ")\r\nd OK Fetch completed.\r\n");
  CHECK(exchange(*host, "e FETCH 1 RFC822\r\n") ==
        "* 1 FETCH (RFC822 " + literal(kMessages[0]) +
            " FLAGS (\\Seen))\r\ne OK Fetch completed.\r\n");
  CHECK(exchange(*host, "f FETCH 2 (BODY.PEEK[1] BODY.PEEK[2.MIME] BODY.PEEK[9] RFC822.TEXT)\r\n")
            .starts_with("* 2 FETCH (BODY[1] " + literal("first part") + " BODY[2.MIME] " +
                         literal("Content-Type: application/octet-stream\r\n"
                                 "Content-Transfer-Encoding: base64\r\n\r\n") +
                         " BODY[9] {0}\r\n RFC822.TEXT {"));
  // RFC 3516: BINARY decodes; data with NUL goes in a literal8.
  CHECK(exchange(*host, "g FETCH 2 (BINARY.SIZE[2] BINARY.PEEK[2] BINARY.PEEK[1]<0.5>)\r\n") ==
        "* 2 FETCH (BINARY.SIZE[2] 3 BINARY[2] ~{3}\r\n" + std::string("\0\x01\x02", 3) +
            " BINARY[1]<0> " + literal("first") + ")\r\ng OK Fetch completed.\r\n");
  // The read-only EXAMINE sets nothing.
  host->feed("x EXAMINE INBOX\r\n");
  host->take_output();
  CHECK(exchange(*host, "h FETCH 2 BODY[1]\r\n") ==
        "* 2 FETCH (BODY[1] " + literal("first part") + ")\r\nh OK Fetch completed.\r\n");
}

TEST_CASE("imap: BINARY of undecodable content fails the FETCH") {
  ImapFixture f;
  f.deliver_to_alice(
      "Subject: bad\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n");
  auto host = selected(f);
  CHECK(exchange(*host, "a UID FETCH 4 (BINARY.SIZE[1])\r\n") ==
        "* 4 FETCH (UID 4)\r\na NO [UNKNOWN-CTE] Unknown Content-Transfer-Encoding.\r\n");
  CHECK(exchange(*host, "b UID FETCH 4 (BODY.PEEK[1])\r\n") ==
        "* 4 FETCH (UID 4 BODY[1] " + literal("begin 644 x\r\n") +
            ")\r\nb OK Fetch completed.\r\n");
}

TEST_CASE("imap: CHANGEDSINCE and MODSEQ") {
  ImapFixture f;
  auto host = selected(f);
  store::Mailbox inbox = f.mailbox(kAlice, "INBOX");
  const store::ModSeq m = inbox.highest_modseq;
  host->feed("a STORE 2 +FLAGS.SILENT (\\Flagged)\r\n");
  host->take_output();
  f.converse(*host, fmt::format(R"(C: b FETCH 1:* (FLAGS) (CHANGEDSINCE {0})
S: * OK [HIGHESTMODSEQ {1}] Highest.
S: * 2 FETCH (FLAGS (\Flagged) MODSEQ ({1}))
S: b OK Fetch completed.
C: c UID FETCH 1 (MODSEQ)
S: * 1 FETCH (UID 1 MODSEQ ({2}))
S: c OK Fetch completed.
C: d UID FETCH 1:* (FLAGS) (CHANGEDSINCE 1 VANISHED)
S: d BAD VANISHED needs UID FETCH and QRESYNC.
)",
                                m, m + 1, f.store->entries(inbox.id)->front().modseq));
}

// A host whose peer reads only when told: what the session sends stays pending until then,
// and the session must stop producing while that is at or above its chunk size.
class SlowHost : public chapar::test::TestHost {
 public:
  void send(std::string_view bytes) override {
    pending_ += bytes.size();
    TestHost::send(bytes);
  }
  size_t pending_output() const override { return pending_; }
  size_t pending_ = 0;
};

TEST_CASE("imap: a large FETCH streams as the peer reads") {
  ImapFixture f;
  auto alice = f.store->find_account(kAlice);
  REQUIRE(alice.has_value());
  store::Mailbox archive = f.mailbox(kAlice, "Archive");
  // 3,000 small messages and one of 3 MB, appended in one transaction.
  std::vector<store::AppendRequest> requests;
  for (int i = 0; i < 3000; ++i) {
    store::AppendRequest r;
    r.mailbox = archive.id;
    r.message = *store::Store::prepare(
        store::Spool::from_string(fmt::format("Subject: {}\r\n\r\nbody {}\r\n", i, i)));
    r.internal_date = kNow;
    requests.push_back(std::move(r));
  }
  std::string big = "Subject: big\r\n\r\n";
  while (big.size() < 3 * 1024 * 1024) big += std::string(998, 'x') + "\r\n";
  store::AppendRequest r;
  r.mailbox = archive.id;
  r.message = *store::Store::prepare(store::Spool::from_string(big));
  r.internal_date = kNow;
  requests.push_back(std::move(r));
  REQUIRE(f.store->append_sync(std::move(requests)).has_value());

  SlowHost host;
  host.open(f.factory());
  host.feed("l LOGIN alice@example.org secret\r\ns SELECT Archive\r\n");
  host.take_output();
  host.pending_ = 0;
  host.feed("a FETCH 1:* (UID FLAGS)\r\nb UID FETCH 3001 BODY.PEEK[]\r\n");
  std::string out = host.take_output();
  CHECK(out.size() <= 2 * Session::kStreamChunk);
  size_t rounds = 0;
  while (out.find("b OK Fetch completed.\r\n") == std::string::npos) {
    // The peer reads everything; the session produces the next chunk.
    host.pending_ = 0;
    size_t before = out.size();
    host.session().on_writable();
    std::string more = host.take_output();
    REQUIRE_MESSAGE(!more.empty(), "no progress after " << before << " octets");
    CHECK(more.size() <= 2 * Session::kStreamChunk);
    out += more;
    ++rounds;
  }
  CHECK(rounds > 10);
  CHECK(out.find("* 3000 FETCH (UID 3000 FLAGS ())\r\n") != std::string::npos);
  CHECK(out.find("a OK Fetch completed.\r\n") != std::string::npos);
  CHECK(out.find(fmt::format("* 3001 FETCH (UID 3001 BODY[] {{{}}}\r\n", big.size())) !=
        std::string::npos);
  CHECK(out.find(big + ")\r\nb OK Fetch completed.\r\n") != std::string::npos);
}

}  // namespace
}  // namespace chapar::imap::test
