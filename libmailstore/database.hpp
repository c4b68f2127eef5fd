// SPDX-License-Identifier: AGPL-3.0-or-later
// A thin RAII layer over one SQLite connection: the connection owns its prepared statements
// (cached by SQL text, every value bound as a parameter), a Query borrows one and resets it
// when done, and a Transaction or Savepoint rolls back in its destructor unless committed.
// A Database is used by one thread at a time.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.hpp"

namespace chapar::store {

// A blob parameter (a std::string_view binds as text).
struct Blob {
  std::string_view bytes;
};

// A parameter bound as zeroblob(size): space for sqlite3_blob_write.
struct ZeroBlob {
  uint64_t size = 0;
};

// The Error for a failed SQLite call: SQLITE_CONSTRAINT_UNIQUE/PRIMARYKEY become
// kAlreadyExists, SQLITE_BUSY/LOCKED kUnavailable, disk trouble kIo, the rest kInternal.
Error sqlite_error(sqlite3* db, int rc, std::string_view what);

class Database;

// One execution of a cached statement. Bind, then step through rows with next() or run it
// with run(). The statement is reset and its bindings cleared when the Query goes. A cached
// statement serves one Query at a time: do not run the same SQL while iterating over it.
class Query {
 public:
  Query(Database& db, sqlite3_stmt* stmt) : db_(&db), stmt_(stmt) {}
  ~Query();
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  Query(Query&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Query& operator=(Query&&) = delete;

  // Binds the parameters ?1, ?2, ... in order.
  template <typename... Args>
  Query& bind(const Args&... args) {
    int index = 0;
    (bind_one(++index, args), ...);
    return *this;
  }

  // true: a row is available; false: done.
  Result<bool> next();
  // Steps until done, ignoring rows.
  Status run();

  int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) const;
  std::string blob(int column) const;
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  void bind_one(int index, int64_t value);
  void bind_one(int index, int value) { bind_one(index, static_cast<int64_t>(value)); }
  void bind_one(int index, uint32_t value) { bind_one(index, static_cast<int64_t>(value)); }
  void bind_one(int index, uint64_t value) { bind_one(index, static_cast<int64_t>(value)); }
  void bind_one(int index, bool value) { bind_one(index, static_cast<int64_t>(value ? 1 : 0)); }
  void bind_one(int index, std::string_view value);
  void bind_one(int index, const std::string& value) { bind_one(index, std::string_view(value)); }
  void bind_one(int index, const char* value) { bind_one(index, std::string_view(value)); }
  void bind_one(int index, Blob value);
  void bind_one(int index, ZeroBlob value);
  void bind_one(int index, std::nullptr_t);

  Database* db_;
  sqlite3_stmt* stmt_;
  int bind_error_ = SQLITE_OK;
};

struct DatabaseOptions {
  int busy_timeout_ms = 10000;
  bool read_only = false;  // PRAGMA query_only: the read connection of a Store
};

class Database {
 public:
  static Result<std::unique_ptr<Database>> open(const std::filesystem::path& path,
                                                const DatabaseOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  sqlite3* handle() const { return db_; }

  // The cached statement for `sql`, prepared on first use. Fails only when `sql` does not
  // compile, which is a programming error reported as kInternal.
  Result<Query> query(const char* sql);
  // Runs statements without parameters (migrations, pragmas), compiling them each time.
  Status exec(const char* sql);
  // Runs one statement without parameters through the statement cache: for those run over
  // and over (transaction control).
  Status run(const char* sql);

  int64_t last_insert_id() const { return sqlite3_last_insert_rowid(db_); }
  int changes() const { return sqlite3_changes(db_); }
  // Whether an explicit transaction is open (false after SQLite rolled one back itself).
  bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

  // Writes `bytes` into the blob `table.column` of row `rowid` at `offset`, in chunks.
  Status write_blob(const char* table, const char* column, int64_t rowid, uint64_t offset,
                    std::string_view bytes);
  // Reads up to `length` octets at `offset` of the blob; fewer at the end of it.
  Result<std::string> read_blob(const char* table, const char* column, int64_t rowid,
                                uint64_t offset, uint64_t length);

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  struct StatementDeleter {
    void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
  };
  sqlite3* db_;
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, StatementDeleter>> statements_;
};

// BEGIN (deferred or IMMEDIATE) … COMMIT; ROLLBACK when destroyed uncommitted.
class Transaction {
 public:
  enum class Mode { kDeferred, kImmediate };
  static Result<Transaction> begin(Database& db, Mode mode);
  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Database& db) : db_(&db) {}
  Database* db_;
};

// SAVEPOINT name … RELEASE; ROLLBACK TO + RELEASE when destroyed unreleased. Savepoints nest.
class Savepoint {
 public:
  static Result<Savepoint> begin(Database& db);
  Savepoint(Savepoint&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Savepoint& operator=(Savepoint&&) = delete;
  ~Savepoint();
  Status release();

 private:
  explicit Savepoint(Database& db) : db_(&db) {}
  Database* db_;
};

}  // namespace chapar::store
