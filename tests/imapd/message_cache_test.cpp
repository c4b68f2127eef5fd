// SPDX-License-Identifier: AGPL-3.0-or-later
// The MessageCache: what it keeps, under which name, within which budget; and the answers
// FETCH ENVELOPE and SEARCH give from it, which are those they give from the store.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <string>
#include <vector>

#include "imapd/message_cache.hpp"
#include "tests/imapd/imap_fixture.hpp"

namespace chapar::imap::test {
namespace {

TEST_CASE("message cache: envelopes and fields by mailbox, UIDVALIDITY and UID") {
  MessageCache cache(1 << 20);
  const MessageKey a{1, 100, 7};
  CHECK(cache.envelope(a) == nullptr);
  cache.add_envelope(a, "(NIL \"one\")");
  REQUIRE(cache.envelope(a) != nullptr);
  CHECK(*cache.envelope(a) == "(NIL \"one\")");
  // Another mailbox, a mailbox made anew (another UIDVALIDITY), another UID.
  CHECK(cache.envelope(MessageKey{2, 100, 7}) == nullptr);
  CHECK(cache.envelope(MessageKey{1, 101, 7}) == nullptr);
  CHECK(cache.envelope(MessageKey{1, 100, 8}) == nullptr);

  CHECK(cache.field(a, "subject") == nullptr);
  cache.add_field(a, "subject", {"one", "two"});
  cache.add_field(a, "x-none", {});
  REQUIRE(cache.field(a, "subject") != nullptr);
  CHECK(*cache.field(a, "subject") == std::vector<std::string>{"one", "two"});
  REQUIRE(cache.field(a, "x-none") != nullptr);
  CHECK(cache.field(a, "x-none")->empty());
  CHECK(cache.field(a, "from") == nullptr);
  CHECK(cache.field(MessageKey{1, 100, 8}, "subject") == nullptr);
  // What is kept stays as it was first given.
  cache.add_envelope(a, "(other)");
  cache.add_field(a, "subject", {"other"});
  CHECK(*cache.envelope(a) == "(NIL \"one\")");
  CHECK(*cache.field(a, "subject") == std::vector<std::string>{"one", "two"});
  CHECK(cache.messages() == 1);
}

TEST_CASE("message cache: the least recently used go first when over the budget") {
  const std::string envelope(100, 'x');
  MessageCache probe(1 << 20);
  probe.add_envelope({1, 1, 1}, envelope);
  const size_t one = probe.bytes();
  REQUIRE(one > envelope.size());

  MessageCache cache(3 * one + one / 2);
  for (store::Uid uid = 1; uid <= 3; ++uid) cache.add_envelope({1, 1, uid}, envelope);
  CHECK(cache.messages() == 3);
  CHECK(cache.bytes() == 3 * one);
  CHECK(cache.envelope({1, 1, 1}) != nullptr);  // now the most recently used
  cache.add_envelope({1, 1, 4}, envelope);
  CHECK(cache.messages() == 3);
  CHECK(cache.envelope({1, 1, 2}) == nullptr);
  CHECK(cache.envelope({1, 1, 1}) != nullptr);
  CHECK(cache.envelope({1, 1, 3}) != nullptr);
  CHECK(cache.envelope({1, 1, 4}) != nullptr);
  CHECK(cache.bytes() == 3 * one);

  // Facts alone over the budget are not kept, and push nothing else out.
  cache.add_envelope({1, 1, 5}, std::string(4 * one, 'x'));
  CHECK(cache.envelope({1, 1, 5}) == nullptr);
  CHECK(cache.messages() == 3);
  // Growing facts count: a searched field makes room for itself.
  cache.add_field({1, 1, 4}, "subject", {envelope});
  CHECK(cache.field({1, 1, 4}, "subject") != nullptr);
  CHECK(cache.messages() == 2);
  CHECK(cache.bytes() <= 3 * one + one / 2);

  MessageCache none(0);
  none.add_envelope({1, 1, 1}, envelope);
  CHECK(none.envelope({1, 1, 1}) == nullptr);
  CHECK(none.messages() == 0);
  CHECK(none.bytes() == 0);
}

// A session on `f`'s store, logged in as `user` with INBOX selected.
std::unique_ptr<chapar::test::TestHost> selected(ImapFixture& f, const char* user = kAlice,
                                                 MessageCache* cache = nullptr,
                                                 bool own_cache = false) {
  auto host = std::make_unique<chapar::test::TestHost>();
  host->open([&f, cache, own_cache](net::SessionHost& h) {
    return std::make_unique<Session>(
        h, Services{f.config, *f.store, *f.throttle, f.watch, own_cache ? cache : f.cache.get()});
  });
  host->feed(fmt::format("l LOGIN {} secret\r\ns SELECT INBOX\r\n", user));
  host->take_output();
  return host;
}

// What `command` answers in a session without a cache, and then twice in sessions on the
// fixture's cache: the first fills it, the second answers from it.
void check_same_answers(ImapFixture& f, const std::string& command) {
  auto plain = selected(f, kAlice, nullptr, true);
  plain->feed(command);
  const std::string expected = plain->take_output();
  CHECK(expected.find(" OK ") != std::string::npos);
  for (int round = 0; round < 2; ++round) {
    auto host = selected(f);
    host->feed(command);
    CHECK(host->take_output() == expected);
  }
}

TEST_CASE("imap: ENVELOPE and SEARCH answer from the message cache as from the store") {
  ImapFixture f;
  f.deliver_to_alice(
      "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus Bern\r\nSubject: second ONE\r\n"
      "From: \"Zo\\\"e\" <zoe@example.net>\r\nX-Note: Alpha\r\n\tBeta\r\n\r\nbody\r\n");
  check_same_answers(f, "f FETCH 1:* (FLAGS ENVELOPE)\r\n");
  CHECK(f.cache->messages() == 4);
  check_same_answers(f, "f UID FETCH 2:4 (ENVELOPE UID RFC822.SIZE)\r\n");
  check_same_answers(f, "s SEARCH SUBJECT one\r\n");
  const std::string word = "GRÜßE";
  check_same_answers(
      f, fmt::format("s SEARCH CHARSET UTF-8 SUBJECT {{{}+}}\r\n{}\r\n", word.size(), word));
  check_same_answers(f, "s SEARCH HEADER SUBJECT \"\"\r\n");
  check_same_answers(f, "s SEARCH HEADER x-note \"alpha\tbeta\"\r\n");
  check_same_answers(f, "s SEARCH HEADER X-NOTE \"alpha\tbeta\"\r\n");
  check_same_answers(f, "s SEARCH OR FROM zoe NOT TO alice\r\n");
  check_same_answers(f, "s SEARCH NOT HEADER X-Missing \"\"\r\n");
}

TEST_CASE("imap: the message cache tells mailboxes and their incarnations apart") {
  ImapFixture f;
  auto bob = f.store->find_account(kBob);
  REQUIRE(bob.has_value());
  ImapFixture::deliver(*f.store, bob->id, "Subject: for bob\r\n\r\nhi\r\n");
  auto alice = selected(f);
  f.converse(*alice, R"(C: a FETCH 1 (ENVELOPE)
S: * 1 FETCH (ENVELOPE ("Fri, 1 Mar 2024 10:00:00 +0000" "one" (("Bob" NIL "bob" "example.net")) (("Bob" NIL "bob" "example.net")) (("Bob" NIL "bob" "example.net")) ((NIL NIL "alice" "example.org")) NIL NIL NIL "<1@example.net>"))
S: a OK Fetch completed.
C: b SEARCH SUBJECT bob
S: * SEARCH
S: b OK Search completed.
)");
  auto other = selected(f, kBob);
  f.converse(*other, R"(C: a FETCH 1 (ENVELOPE)
S: * 1 FETCH (ENVELOPE (NIL "for bob" NIL NIL NIL NIL NIL NIL NIL NIL))
S: a OK Fetch completed.
C: b SEARCH SUBJECT bob
S: * SEARCH 1
S: b OK Search completed.
)");

  // A mailbox deleted and made again under the same name has other messages under the same
  // UIDs (and may have the same id in the store); it has another UIDVALIDITY.
  alice->feed("c CREATE Box\r\np APPEND Box {18+}\r\nSubject: first\r\n\r\n\r\nt SELECT Box\r\n");
  alice->take_output();
  const store::Mailbox first = f.mailbox(kAlice, "Box");
  f.converse(*alice, R"(C: a FETCH 1 (ENVELOPE)
S: * 1 FETCH (ENVELOPE (NIL "first" NIL NIL NIL NIL NIL NIL NIL NIL))
S: a OK Fetch completed.
C: b SEARCH SUBJECT first
S: * SEARCH 1
S: b OK Search completed.
)");
  alice->feed(
      "u UNSELECT\r\nd DELETE Box\r\nc CREATE Box\r\n"
      "p APPEND Box {19+}\r\nSubject: second\r\n\r\n\r\nt SELECT Box\r\n");
  alice->take_output();
  const store::Mailbox second = f.mailbox(kAlice, "Box");
  CHECK(second.uidvalidity != first.uidvalidity);
  f.converse(*alice, R"(C: a FETCH 1 (ENVELOPE)
S: * 1 FETCH (ENVELOPE (NIL "second" NIL NIL NIL NIL NIL NIL NIL NIL))
S: a OK Fetch completed.
C: b SEARCH SUBJECT first
S: * SEARCH
S: b OK Search completed.
)");
}

}  // namespace
}  // namespace chapar::imap::test
