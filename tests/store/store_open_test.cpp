// SPDX-License-Identifier: AGPL-3.0-or-later
#include <doctest/doctest.h>
#include <sqlite3.h>

#include "libmailstore/schema.hpp"
#include "tests/store/store_fixture.hpp"

namespace chapar::store {
namespace {

using test::open_store;

int64_t scalar(const std::filesystem::path& database, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  int64_t value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

TEST_CASE("store: opening a missing store fails unless asked to create it") {
  chapar::test::TestDir dir;
  StoreOptions options;
  options.data_dir = dir / "data";
  auto missing = Store::open(options);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::kNotFound);

  options.create = true;
  auto created = Store::open(options);
  REQUIRE(created);
  CHECK(std::filesystem::is_directory(dir / "data" / "tmp"));
  CHECK(std::filesystem::is_directory(dir / "data" / "run"));
  CHECK(std::filesystem::is_directory(dir / "data" / "locks"));
  CHECK((*created)->temp_dir() == dir / "data" / "tmp");
  // Password hashes inside: no access for others.
  auto perms = std::filesystem::status(dir / "data" / Store::kDatabaseName).permissions();
  CHECK((perms & std::filesystem::perms::others_all) == std::filesystem::perms::none);
  auto stats = (*created)->stats();
  REQUIRE(stats);
  CHECK(stats->domains == 0);
  CHECK(stats->messages == 0);
}

TEST_CASE("store: migrations run once and reopening is idempotent") {
  chapar::test::TestDir dir;
  auto database = dir / "data" / Store::kDatabaseName;
  {
    auto store = open_store(dir / "data");
    REQUIRE(store->add_domain_sync("example.org"));
  }
  CHECK(scalar(database, "SELECT COUNT(*) FROM schema_version") == latest_schema_version());
  for (int i = 0; i < 3; ++i) {
    auto store = open_store(dir / "data");
    auto domains = store->list_domains();
    REQUIRE(domains);
    REQUIRE(domains->size() == 1);
    CHECK((*domains)[0].name == "example.org");
  }
  CHECK(scalar(database, "SELECT COUNT(*) FROM schema_version") == latest_schema_version());
  CHECK(scalar(database, "SELECT MAX(version) FROM schema_version") == latest_schema_version());
}

TEST_CASE("store: the database is in WAL mode") {
  chapar::test::TestDir dir;
  auto store = open_store(dir / "data");
  sqlite3* db = nullptr;
  auto database = dir / "data" / Store::kDatabaseName;
  REQUIRE(sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0))) == "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_CASE("store: a second store in the process shares the writer") {
  test::StoreFixture f;
  auto other = f.store->open_another();
  REQUIRE(other);
  REQUIRE((*other)->add_domain_sync("example.org"));
  CHECK(*f.store->is_local_domain("EXAMPLE.org"));
  CHECK(f.store->writer_stats().commits == (*other)->writer_stats().commits);
}

}  // namespace
}  // namespace chapar::store
