// SPDX-License-Identifier: AGPL-3.0-or-later
#include <doctest/doctest.h>

#include <string>

#include "libmailstore/mime/structure.hpp"
#include "tests/store/store_fixture.hpp"

namespace chapar::store {
namespace {

TEST_CASE("spool: small content stays in memory, large content goes to a file") {
  chapar::test::TestDir dir;
  Spool small(dir.path(), 100);
  REQUIRE(small.append("hello "));
  REQUIRE(small.append("world"));
  REQUIRE(small.finish());
  CHECK_FALSE(small.on_disk());
  CHECK(small.view() == "hello world");
  CHECK(small.size() == 11);
  CHECK_FALSE(small.append("more"));

  Spool large(dir.path(), 100);
  std::string expected;
  for (int i = 0; i < 50; ++i) {
    std::string piece = "piece " + std::to_string(i) + "\r\n";
    REQUIRE(large.append(piece));
    expected += piece;
  }
  REQUIRE(large.finish());
  CHECK(large.on_disk());
  CHECK(large.view() == expected);
  CHECK(large.size() == expected.size());
  // The file has no name: nothing is left in the directory.
  CHECK(std::filesystem::is_empty(dir.path()));

  Spool empty(dir.path(), 100);
  REQUIRE(empty.finish());
  CHECK(empty.view().empty());

  Spool nowhere(dir / "missing", 4);
  CHECK(nowhere.append("abc"));
  auto failed = nowhere.append("defgh");
  REQUIRE_FALSE(failed);
  CHECK(failed.error().code == Errc::kIo);

  auto from = Spool::from_string("abc");
  CHECK(from->finished());
  CHECK(from->view() == "abc");
}

std::string prepared(std::string raw, const std::filesystem::path& temp_dir, size_t limit) {
  auto spool = std::make_shared<Spool>(temp_dir, limit);
  REQUIRE(spool->append(raw));
  REQUIRE(spool->finish());
  auto message = Store::prepare(spool);
  REQUIRE(message);
  CHECK(message->size == message->content->size());
  return std::string(message->content->view());
}

TEST_CASE("store: prepare normalises line ends to CRLF") {
  chapar::test::TestDir dir;
  for (size_t limit : {size_t{4}, Spool::kDefaultMemoryLimit}) {
    CAPTURE(limit);
    CHECK(prepared("a\r\nb\r\n", dir.path(), limit) == "a\r\nb\r\n");
    CHECK(prepared("a\nb\n", dir.path(), limit) == "a\r\nb\r\n");
    CHECK(prepared("\n\nx", dir.path(), limit) == "\r\n\r\nx");
    CHECK(prepared("a\r\nb\nc\r\n", dir.path(), limit) == "a\r\nb\r\nc\r\n");
    // A lone CR inside stays; one at the very end is dropped (as Dovecot does).
    CHECK(prepared("a\rb\r\n", dir.path(), limit) == "a\rb\r\n");
    CHECK(prepared("a\r\nb\r", dir.path(), limit) == "a\r\nb");
    CHECK(prepared("a\nb\r", dir.path(), limit) == "a\r\nb");
    CHECK(prepared("no line end", dir.path(), limit) == "no line end");
    CHECK(prepared("", dir.path(), limit).empty());
  }
  // Unchanged content keeps its Spool.
  auto spool = Spool::from_string("Subject: x\r\n\r\nbody\r\n");
  auto message = Store::prepare(spool);
  REQUIRE(message);
  CHECK(message->content == spool);

  // A large message normalised through a file.
  std::string raw;
  std::string expected;
  for (int i = 0; i < 20000; ++i) {
    raw += "line " + std::to_string(i) + (i % 3 == 0 ? "\r\n" : "\n");
    expected += "line " + std::to_string(i) + "\r\n";
  }
  CHECK(prepared(raw, dir.path(), 1024) == expected);

  CHECK_FALSE(Store::prepare(nullptr));
  CHECK_FALSE(Store::prepare(std::make_shared<Spool>(dir.path())));  // not finished
}

TEST_CASE("store: prepare stores the MIME structure with the message") {
  test::StoreFixture f;
  AccountId a = f.add_account("a@example.org");
  std::string raw =
      "From: Alice <alice@example.net>\nTo: a@example.org\nSubject: hello\n"
      "Content-Type: text/plain; charset=utf-8\n\nbody line\n";
  auto message = Store::prepare(Spool::from_string(raw));
  REQUIRE(message);
  CHECK(message->size == raw.size() + 6);  // six LFs became CRLF
  Delivery delivery;
  delivery.message = *message;
  delivery.local = {a};
  auto receipt = f.store->deliver_sync(std::move(delivery));
  REQUIRE(receipt);

  auto stored = f.store->structure(receipt->message);
  REQUIRE(stored);
  auto structure = mime::deserialize(*stored);
  REQUIRE(structure);
  CHECK(structure->size == message->size);
  REQUIRE(structure->envelope().subject);
  CHECK(*structure->envelope().subject == "hello");
  CHECK(structure->root.body_size == std::string("body line\r\n").size());
  auto body =
      f.store->read(receipt->message, structure->root.body_offset(), structure->root.body_size);
  CHECK(*body == "body line\r\n");
  CHECK(f.store->structure(receipt->message + 1).error().code == Errc::kNotFound);
}

}  // namespace
}  // namespace chapar::store
