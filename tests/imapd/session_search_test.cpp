// SPDX-License-Identifier: AGPL-3.0-or-later
// SEARCH and UID SEARCH: keys, ESEARCH, SEARCHRES, MODSEQ, charsets, and the corpus searches
// answered as the reference server answered them.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "tests/imapd/imap_fixture.hpp"

namespace chapar::imap::test {
namespace {

std::unique_ptr<chapar::test::TestHost> selected(ImapFixture& f) {
  auto host = f.open();
  host->feed("l LOGIN alice@example.org secret\r\ns SELECT INBOX\r\n");
  host->take_output();
  return host;
}

TEST_CASE("imap: SEARCH keys") {
  ImapFixture f;
  auto host = selected(f);
  f.converse(*host, R"(C: p STORE 2 +FLAGS.SILENT (\Flagged $Work)
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work \*)] Flags permitted.
S: p OK Store completed.
C: a SEARCH ALL
S: * SEARCH 1 2 3
S: a OK Search completed.
C: b SEARCH FLAGGED
S: * SEARCH 2
S: b OK Search completed.
C: c SEARCH OR SUBJECT one FROM carol
S: * SEARCH 1 2
S: c OK Search completed.
C: d SEARCH NOT (KEYWORD $Work) UNFLAGGED
S: * SEARCH 1 3
S: d OK Search completed.
C: e UID SEARCH UID 2:* BODY "LINE 2"
S: * SEARCH 3
S: e OK Search completed.
C: f SEARCH TEXT "first part"
S: * SEARCH 2
S: f OK Search completed.
C: g SEARCH HEADER Message-ID "" SENTON 1-Mar-2024
S: * SEARCH 1
S: g OK Search completed.
C: h SEARCH SENTSINCE 2-Mar-2024
S: * SEARCH 2
S: h OK Search completed.
C: i SEARCH SENTBEFORE 1-Jan-2000
S: * SEARCH 3
S: i OK Search completed.
C: j SEARCH ON 1-Mar-2024 SINCE 1-Mar-2024 BEFORE 2-Mar-2024 LARGER 100 SMALLER 1000
S: * SEARCH 1 2
S: j OK Search completed.
C: k SEARCH 2:3 NEW
S: * SEARCH
S: k OK Search completed.
C: l SEARCH 1,3 OLD UNSEEN UNDELETED UNANSWERED UNDRAFT
S: * SEARCH 1 3
S: l OK Search completed.
C: m SEARCH TO Alice CC nobody
S: * SEARCH
S: m OK Search completed.
C: n SEARCH CHARSET UTF-8 SUBJECT {3}
S: + OK
C: ONE
S: * SEARCH 1
S: n OK Search completed.
C: o SEARCH CHARSET X-NONE ALL
S: o NO [BADCHARSET (UTF-8 US-ASCII ISO-8859-1)] Unsupported charset.
C: q SEARCH FROB
S: q BAD Unknown search key FROB.
)");
}

TEST_CASE("imap: ESEARCH, SEARCHRES and MODSEQ") {
  ImapFixture f;
  auto host = selected(f);
  store::Mailbox inbox = f.mailbox(kAlice, "INBOX");
  host->feed("p STORE 3 +FLAGS.SILENT (\\Seen)\r\n");
  host->take_output();
  f.converse(*host, fmt::format(R"(C: a SEARCH RETURN (MIN MAX COUNT ALL) ALL
S: * ESEARCH (TAG "a") MIN 1 MAX 3 COUNT 3 ALL 1:3
S: a OK Search completed.
C: b UID SEARCH RETURN (COUNT) DELETED
S: * ESEARCH (TAG "b") UID COUNT 0
S: b OK Search completed.
C: c SEARCH RETURN () UNSEEN
S: * ESEARCH (TAG "c") ALL 1:2
S: c OK Search completed.
C: d SEARCH RETURN (SAVE) SEEN
S: d OK Search completed.
C: e FETCH $ (UID)
S: * 3 FETCH (UID 3)
S: e OK Fetch completed.
C: f UID SEARCH $
S: * SEARCH 3
S: f OK Search completed.
C: g SEARCH MODSEQ {0}
S: * OK [HIGHESTMODSEQ {0}] Highest.
S: * SEARCH 3 (MODSEQ {0})
S: g OK Search completed.
C: h SEARCH RETURN (MAX) MODSEQ 1
S: * ESEARCH (TAG "h") MAX 3 MODSEQ {0}
S: h OK Search completed.
)",
                                inbox.highest_modseq + 1));
  // IMAP4rev2 clients get ESEARCH without asking (RFC 9051 §6.4.4).
  host->feed("x ENABLE IMAP4rev2\r\n");
  host->take_output();
  f.converse(*host, R"(C: i SEARCH UNSEEN
S: * ESEARCH (TAG "i") ALL 1:2
S: i OK Search completed.
C: j UID SEARCH DELETED
S: * ESEARCH (TAG "j") UID
S: j OK Search completed.
)");
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_CASE("imap corpus: UID SEARCH answers as the reference server's") {
  auto corpus = chapar::test::corpus_dir();
  if (!corpus) {
    MESSAGE("the corpus is not beside this checkout; skipping the search check");
    return;
  }
  std::vector<std::filesystem::path> messages;
  for (const auto& e : std::filesystem::directory_iterator(*corpus / "open")) {
    if (e.path().extension() == ".eml") messages.push_back(e.path());
  }
  std::sort(messages.begin(), messages.end());
  ImapFixture f;
  store::Mailbox archive = f.mailbox(kAlice, "Archive");
  std::vector<store::AppendRequest> requests;
  for (const auto& path : messages) {
    store::AppendRequest r;
    r.mailbox = archive.id;
    auto prepared = store::Store::prepare(store::Spool::from_string(read_file(path)));
    REQUIRE(prepared.has_value());
    r.message = std::move(*prepared);
    r.internal_date = 1577836800;  // 01-Jan-2020 00:00:00 +0000
    requests.push_back(std::move(r));
  }
  REQUIRE(f.store->append_sync(std::move(requests)).has_value());
  auto host = f.open();
  host->feed("l LOGIN alice@example.org secret\r\ns SELECT Archive\r\n");
  host->take_output();

  // One departure: 027.eml is dated 13 Feb 1969, which Dovecot cannot represent and treats
  // as sent after 2010. RFC 9051 §6.4.4: SENTBEFORE and SENTSINCE compare the date of the
  // Date: header, so here it is sent before 2000.
  auto position = std::find_if(messages.begin(), messages.end(),
                               [](const auto& p) { return p.filename() == "027.eml"; });
  const std::string dated_1969 = std::to_string(position - messages.begin() + 1);
  auto adjust = [&](const std::string& command, std::string response) {
    std::vector<std::string> uids;
    std::istringstream in(response.substr(9, response.size() - 11));  // "* SEARCH " ... CRLF
    for (std::string u; in >> u;) uids.push_back(u);
    auto has = std::find(uids.begin(), uids.end(), dated_1969);
    if (command.starts_with("UID SEARCH SENTBEFORE 1-Jan-2000") && has == uids.end()) {
      uids.push_back(dated_1969);
    } else if (command.starts_with("UID SEARCH SENTSINCE 1-Jan-2010") && has != uids.end()) {
      uids.erase(has);
    } else {
      return response;
    }
    std::sort(uids.begin(), uids.end(), [](const std::string& a, const std::string& b) {
      return std::stoul(a) < std::stoul(b);
    });
    std::string out = "* SEARCH";
    for (const std::string& u : uids) out += " " + u;
    return out + "\r\n";
  };

  // FORMAT.md: "C: " command (literals inline), "S: " responses, "R: " status, empty line.
  const std::string data = read_file(*corpus / "open" / "search.expected");
  size_t pos = 0;
  size_t checked = 0;
  while (pos < data.size()) {
    REQUIRE(data.compare(pos, 3, "C: ") == 0);
    size_t s = data.find("\r\nS: ", pos);
    REQUIRE(s != std::string::npos);
    std::string command = data.substr(pos + 3, s + 2 - pos - 3);
    size_t r = data.find("\r\nR: ", s);
    std::string response = data.substr(s + 5, r + 2 - s - 5);
    size_t end = data.find("\r\n\r\n", r + 2);
    std::string status = data.substr(r + 5, end - r - 5);
    pos = end + 4;
    // The synchronizing literals of the recording get their continuation here.
    host->feed("t " + command);
    std::string got = host->take_output();
    size_t cont = 0;
    while ((cont = got.find("+ OK\r\n")) != std::string::npos) got.erase(cont, 6);
    INFO(command);
    CHECK(got == adjust(command, response) + "t " + status + "\r\n");
    ++checked;
  }
  MESSAGE("corpus searches checked: " << checked);
}

}  // namespace
}  // namespace chapar::imap::test
