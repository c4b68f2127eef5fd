// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/check_store.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <memory>
#include <system_error>

#include <fmt/format.h>

#include "libmailstore/schema.hpp"
#include "libmailstore/store.hpp"

namespace chapar::ctl {
namespace {

namespace fs = std::filesystem;

constexpr const char* kWorkDirs[] = {"tmp", "run", "locks"};

struct DbClose {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StmtFinalize {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};

std::string fix_ownership(const fs::path& data_dir, std::string_view reader) {
  std::string_view user = reader.starts_with("user ") ? reader.substr(5) : reader;
  return fmt::format("chown -R {}: {}", user, data_dir.string());
}

// The schema version recorded in the file, or -1 with the error in `error`.
int schema_version(const fs::path& database, std::string& error) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(database.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  std::unique_ptr<sqlite3, DbClose> db(raw);
  if (rc != SQLITE_OK) {
    error = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    return -1;
  }
  sqlite3_busy_timeout(db.get(), 5000);
  sqlite3_stmt* stmt_raw = nullptr;
  rc = sqlite3_prepare_v2(db.get(), "SELECT COALESCE(MAX(version), 0) FROM schema_version", -1,
                          &stmt_raw, nullptr);
  std::unique_ptr<sqlite3_stmt, StmtFinalize> stmt(stmt_raw);
  if (rc != SQLITE_OK) {
    error = sqlite3_errmsg(db.get());
    return -1;
  }
  if (sqlite3_step(stmt.get()) != SQLITE_ROW) {
    error = sqlite3_errmsg(db.get());
    return -1;
  }
  return sqlite3_column_int(stmt.get(), 0);
}

}  // namespace

void check_store(const fs::path& data_dir, std::string_view reader, CheckReport& report) {
  std::error_code ec;
  const fs::path database = data_dir / store::Store::kDatabaseName;
  if (!fs::exists(database, ec)) {
    report.problem(
        fmt::format("store.data_dir: no store in {}: create it with 'chaparctl "
                    "quickstart --domain DOMAIN --hostname HOST'",
                    data_dir.string()));
    return;
  }
  bool in_order = true;
  for (const fs::path& path : {data_dir, database}) {
    if (::access(path.c_str(), R_OK | W_OK) != 0) {
      report.problem(fmt::format("store: {} is not writable by {}: {}", path.string(), reader,
                                 fix_ownership(data_dir, reader)));
      return;
    }
  }
  for (const char* name : kWorkDirs) {
    const fs::path dir = data_dir / name;
    if (fs::exists(dir, ec) && ::access(dir.c_str(), R_OK | W_OK | X_OK) != 0) {
      report.problem(fmt::format("store: {} is not writable by {}: {}", dir.string(), reader,
                                 fix_ownership(data_dir, reader)));
      in_order = false;
    }
  }
  std::string error;
  int version = schema_version(database, error);
  const int latest = store::latest_schema_version();
  if (version < 0) {
    report.problem(fmt::format("store: cannot read {}: {}: restore it from a backup",
                               database.string(), error));
    return;
  }
  if (version > latest) {
    report.problem(
        fmt::format("store: {} has schema version {}, newer than this build's {}: "
                    "install the Chapar version that wrote it",
                    database.string(), version, latest));
    return;
  }
  if (version < latest) {
    report.note(
        fmt::format("store: schema version {} is brought up to {} when a daemon or "
                    "chaparctl next opens it",
                    version, latest));
  }
  if (in_order) report.ok(fmt::format("store {} (schema version {})", database.string(), version));
}

}  // namespace chapar::ctl
