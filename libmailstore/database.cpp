// SPDX-License-Identifier: AGPL-3.0-or-later
#include "libmailstore/database.hpp"
#include "libmailstore/wal_vfs.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace chapar::store {

namespace {

// Blob I/O goes in pieces so that neither side needs the whole content at once.
constexpr uint64_t kBlobChunk = 256 * 1024;

}  // namespace

Error sqlite_error(sqlite3* db, int rc, std::string_view what) {
  std::string detail = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = fmt::format("{}: {}", what, detail);
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return Error{Errc::kAlreadyExists, std::move(message)};
      }
      return Error{Errc::kInvalidArgument, std::move(message)};
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Error{Errc::kUnavailable, std::move(message)};
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Error{Errc::kIo, std::move(message)};
    default:
      return Error{Errc::kInternal, std::move(message)};
  }
}

// --- Query ---

Query::~Query() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

void Query::bind_one(int index, int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) bind_error_ = rc;
}

void Query::bind_one(int index, std::string_view value) {
  int rc =
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  if (rc != SQLITE_OK) bind_error_ = rc;
}

void Query::bind_one(int index, Blob value) {
  // A zero-length blob must still be a blob, not NULL: give SQLite a valid pointer.
  static constexpr char kEmpty = 0;
  const char* data = value.bytes.empty() ? &kEmpty : value.bytes.data();
  int rc = sqlite3_bind_blob64(stmt_, index, data, value.bytes.size(), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) bind_error_ = rc;
}

void Query::bind_one(int index, ZeroBlob value) {
  int rc = sqlite3_bind_zeroblob64(stmt_, index, value.size);
  if (rc != SQLITE_OK) bind_error_ = rc;
}

void Query::bind_one(int index, std::nullptr_t) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) bind_error_ = rc;
}

Result<bool> Query::next() {
  if (bind_error_ != SQLITE_OK) {
    return Unexpected{sqlite_error(db_->handle(), bind_error_, "bind")};
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  // sqlite3_step's extended code is only in the connection after a failure.
  return Unexpected{
      sqlite_error(db_->handle(), sqlite3_extended_errcode(db_->handle()), sqlite3_sql(stmt_))};
}

Status Query::run() {
  for (;;) {
    auto row = next();
    if (!row) return Unexpected{row.error()};
    if (!*row) return {};
  }
}

std::string Query::text(int column) const {
  const auto* data = sqlite3_column_text(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(data), static_cast<size_t>(size));
}

std::string Query::blob(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr) return {};
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

// --- Database ---

Result<std::unique_ptr<Database>> Database::open(const std::filesystem::path& path,
                                                 const DatabaseOptions& options) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, wal_chunk_vfs());
  std::unique_ptr<Database> db(new Database(raw));
  if (rc != SQLITE_OK) {
    return Unexpected{sqlite_error(raw, rc, fmt::format("open {}", path.string()))};
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  // WAL mode is a property of the file, set once and kept; the rest is per connection.
  // synchronous=FULL: a commit is on disk when COMMIT returns, which is what a 250 promises.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
                             "PRAGMA foreign_keys=ON", "PRAGMA secure_delete=OFF"}) {
    if (auto s = db->exec(pragma); !s) return Unexpected{s.error()};
  }
  if (options.read_only) {
    if (auto s = db->exec("PRAGMA query_only=ON"); !s) return Unexpected{s.error()};
  }
  return db;
}

Database::~Database() {
  statements_.clear();
  sqlite3_close_v2(db_);
}

Result<Query> Database::query(const char* sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return Unexpected{sqlite_error(db_, rc, sql)};
    it = statements_.emplace(sql, std::unique_ptr<sqlite3_stmt, StatementDeleter>(stmt)).first;
  }
  return Query(*this, it->second.get());
}

Status Database::exec(const char* sql) {
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return {};
  std::string text = message != nullptr ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  int code = sqlite3_extended_errcode(db_);
  Error error = sqlite_error(nullptr, code, sql);
  error.message = fmt::format("{}: {}", sql, text);
  return Unexpected{std::move(error)};
}

Status Database::run(const char* sql) {
  auto q = query(sql);
  if (!q) return Unexpected{q.error()};
  return q->run();
}

namespace {

struct BlobHandle {
  sqlite3_blob* blob = nullptr;
  ~BlobHandle() {
    if (blob != nullptr) sqlite3_blob_close(blob);
  }
};

}  // namespace

Status Database::write_blob(const char* table, const char* column, int64_t rowid, uint64_t offset,
                            std::string_view bytes) {
  BlobHandle handle;
  int rc = sqlite3_blob_open(db_, "main", table, column, rowid, 1, &handle.blob);
  if (rc != SQLITE_OK) return Unexpected{sqlite_error(db_, rc, "blob open")};
  uint64_t blob_size = static_cast<uint64_t>(sqlite3_blob_bytes(handle.blob));
  if (offset > blob_size || bytes.size() > blob_size - offset) {
    return fail(Errc::kInternal, "blob write beyond the end");
  }
  for (uint64_t done = 0; done < bytes.size();) {
    uint64_t n = std::min<uint64_t>(kBlobChunk, bytes.size() - done);
    rc = sqlite3_blob_write(handle.blob, bytes.data() + done, static_cast<int>(n),
                            static_cast<int>(offset + done));
    if (rc != SQLITE_OK) return Unexpected{sqlite_error(db_, rc, "blob write")};
    done += n;
  }
  return {};
}

Result<std::string> Database::read_blob(const char* table, const char* column, int64_t rowid,
                                        uint64_t offset, uint64_t length) {
  BlobHandle handle;
  int rc = sqlite3_blob_open(db_, "main", table, column, rowid, 0, &handle.blob);
  if (rc != SQLITE_OK) return Unexpected{sqlite_error(db_, rc, "blob open")};
  uint64_t blob_size = static_cast<uint64_t>(sqlite3_blob_bytes(handle.blob));
  if (offset >= blob_size) return std::string();
  uint64_t n = std::min(length, blob_size - offset);
  std::string out(n, '\0');
  for (uint64_t done = 0; done < n;) {
    uint64_t piece = std::min<uint64_t>(kBlobChunk, n - done);
    rc = sqlite3_blob_read(handle.blob, out.data() + done, static_cast<int>(piece),
                           static_cast<int>(offset + done));
    if (rc != SQLITE_OK) return Unexpected{sqlite_error(db_, rc, "blob read")};
    done += piece;
  }
  return out;
}

// --- Transaction, Savepoint ---

Result<Transaction> Transaction::begin(Database& db, Mode mode) {
  auto s = db.run(mode == Mode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN");
  if (!s) return Unexpected{s.error()};
  return Transaction(db);
}

Transaction::~Transaction() {
  if (db_ != nullptr && db_->in_transaction()) (void)db_->exec("ROLLBACK");
}

Status Transaction::commit() {
  Database* db = db_;
  db_ = nullptr;
  if (db == nullptr) return fail(Errc::kInternal, "transaction already finished");
  auto s = db->run("COMMIT");
  if (!s && db->in_transaction()) (void)db->exec("ROLLBACK");
  return s;
}

Result<Savepoint> Savepoint::begin(Database& db) {
  auto s = db.run("SAVEPOINT request");
  if (!s) return Unexpected{s.error()};
  return Savepoint(db);
}

Savepoint::~Savepoint() {
  // After an I/O error SQLite may have rolled back the whole transaction already.
  if (db_ != nullptr && db_->in_transaction()) {
    (void)db_->exec("ROLLBACK TO request");
    (void)db_->exec("RELEASE request");
  }
}

Status Savepoint::release() {
  Database* db = db_;
  db_ = nullptr;
  if (db == nullptr) return fail(Errc::kInternal, "savepoint already released");
  return db->run("RELEASE request");
}

}  // namespace chapar::store
