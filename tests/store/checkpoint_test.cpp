// SPDX-License-Identifier: AGPL-3.0-or-later
// When the writer checkpoints: at StoreOptions::checkpoint_pages, not at SQLite's default.
#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "libmailstore/wal_vfs.hpp"
#include "tests/store/store_fixture.hpp"

namespace chapar::store {
namespace {

using test::make_message;
using test::sample_body;

// A WAL frame: its 24-octet header and a 4 KB page.
constexpr uint64_t kFrame = 24 + 4096;

struct CheckpointFixture {
  chapar::test::TestDir dir;
  std::unique_ptr<Store> store;
  AccountId account = 0;

  explicit CheckpointFixture(int checkpoint_pages) {
    StoreOptions options;
    options.data_dir = dir / "data";
    options.create = true;
    options.checkpoint_pages = checkpoint_pages;
    auto opened = Store::open(options);
    REQUIRE(opened);
    store = std::move(*opened);
    REQUIRE(store->add_domain_sync("example.org"));
    auto id = store->add_account_sync("a@example.org", "$y$hash");
    REQUIRE(id);
    account = *id;
  }

  void deliver(int n) {
    Delivery delivery;
    delivery.message = make_message(sample_body("m" + std::to_string(n), 100));
    delivery.local = {account};
    REQUIRE(store->deliver_sync(std::move(delivery)));
  }

  uint64_t wal_size() const {
    return std::filesystem::file_size(dir / "data" / (std::string(Store::kDatabaseName) + "-wal"));
  }
};

TEST_CASE("writer: the WAL is checkpointed once it holds checkpoint_pages pages") {
  CheckpointFixture f(64);
  for (int i = 0; i < 80; ++i) f.deliver(i);
  // A delivery writes about ten pages; without checkpoints the WAL would hold 800 (over
  // 3 MB). Each checkpoint lets the next commit start the WAL over, so it never grows far
  // past 64 pages and stays within its first chunk.
  CHECK(f.wal_size() == static_cast<uint64_t>(kWalChunk));
}

TEST_CASE("writer: SQLite's own checkpoint at 1,000 pages does not run") {
  CheckpointFixture f(1 << 20);
  // SQLite's checkpoint would keep the WAL under 1,010 pages, within 5 chunks.
  for (int i = 0; i < 400 && f.wal_size() <= 2000 * kFrame; ++i) f.deliver(i);
  CHECK(f.wal_size() > 2000 * kFrame);
}

}  // namespace
}  // namespace chapar::store
