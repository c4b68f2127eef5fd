// SPDX-License-Identifier: AGPL-3.0-or-later
// The WAL grows in chunks of zeros written ahead of the frames, and a WAL that ends in such
// zeros is read back whole: by the store after a crash (SQLite rebuilds its index from the
// file) and by plain SQLite.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <string>

#include "libmailstore/wal_vfs.hpp"
#include "tests/store/store_fixture.hpp"

namespace chapar::store {
namespace {

using test::make_message;

struct WalFixture {
  chapar::test::TestDir dir;
  std::unique_ptr<Store> store;
  AccountId account = 0;

  WalFixture() {
    StoreOptions options;
    options.data_dir = dir / "data";
    options.create = true;
    options.checkpoint_pages = 1 << 20;  // every commit stays in the WAL
    auto opened = Store::open(options);
    REQUIRE(opened);
    store = std::move(*opened);
    REQUIRE(store->add_domain_sync("example.org"));
    auto id = store->add_account_sync("a@example.org", "$y$hash");
    REQUIRE(id);
    account = *id;
  }

  MessageId deliver(const std::string& content) {
    Delivery delivery;
    delivery.message = make_message(content);
    delivery.local = {account};
    auto receipt = store->deliver_sync(std::move(delivery));
    REQUIRE(receipt);
    return receipt->message;
  }

  std::filesystem::path file(const char* suffix) const {
    return dir / "data" / (std::string(Store::kDatabaseName) + suffix);
  }
};

std::string content_of_size(size_t size, char fill) {
  std::string content = "Subject: sized\r\n\r\n";
  while (content.size() < size) content += std::string(76, fill) + "\r\n";
  return content;
}

TEST_CASE("wal: the WAL grows a chunk at a time, written out, not sparse") {
  WalFixture f;
  f.deliver(content_of_size(4096, 'a'));
  struct stat st {};
  REQUIRE(stat(f.file("-wal").c_str(), &st) == 0);
  CHECK(st.st_size == kWalChunk);
  CHECK(static_cast<int64_t>(st.st_blocks) * 512 >= kWalChunk);

  f.deliver(content_of_size(3 * 1024 * 1024 / 2, 'b'));
  REQUIRE(stat(f.file("-wal").c_str(), &st) == 0);
  CHECK(st.st_size == 2 * kWalChunk);
  CHECK(static_cast<int64_t>(st.st_blocks) * 512 >= 2 * kWalChunk);
}

TEST_CASE("wal: a copy taken while the store is open, WAL and zeros included, has every commit") {
  WalFixture f;
  std::string small = content_of_size(4096, 's');
  std::string large = content_of_size(700 * 1024, 'l');
  MessageId first = f.deliver(small);
  MessageId second = f.deliver(large);
  REQUIRE(std::filesystem::file_size(f.file("-wal")) == static_cast<uint64_t>(kWalChunk));

  // What a crash leaves: the database and the WAL, no index of the WAL (-shm).
  chapar::test::TestDir copy;
  std::filesystem::create_directories(copy / "data");
  for (const char* suffix : {"", "-wal"}) {
    std::filesystem::copy_file(f.file(suffix),
                               copy / "data" / (std::string(Store::kDatabaseName) + suffix));
  }

  sqlite3* plain = nullptr;
  REQUIRE(sqlite3_open((copy / "data" / Store::kDatabaseName).c_str(), &plain) == SQLITE_OK);
  sqlite3_stmt* count = nullptr;
  REQUIRE(sqlite3_prepare_v2(plain, "SELECT count(*) FROM messages", -1, &count, nullptr) ==
          SQLITE_OK);
  REQUIRE(sqlite3_step(count) == SQLITE_ROW);
  CHECK(sqlite3_column_int(count, 0) == 2);
  sqlite3_finalize(count);
  sqlite3_close(plain);

  auto reopened = test::open_store(copy / "data");
  auto read_small = reopened->read(first, 0, small.size() + 1);
  REQUIRE(read_small);
  CHECK(*read_small == small);
  auto read_large = reopened->read(second, 0, large.size() + 1);
  REQUIRE(read_large);
  CHECK(*read_large == large);
}

}  // namespace
}  // namespace chapar::store
