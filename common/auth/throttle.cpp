// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/auth/throttle.hpp"

#include <arpa/inet.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "common/log.hpp"
#include "common/text/ascii.hpp"

namespace chapar::auth {
namespace {

namespace fs = std::filesystem;

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct Finalize {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using DbPtr = std::unique_ptr<sqlite3, CloseDb>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, Finalize>;

constexpr int kBusyTimeoutMs = 250;

constexpr const char* kSchema = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=OFF;
CREATE TABLE IF NOT EXISTS failures(ip TEXT NOT NULL, user TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS failures_by_ip ON failures(ip, at);
CREATE INDEX IF NOT EXISTS failures_by_user ON failures(user, ip, at);
CREATE INDEX IF NOT EXISTS failures_by_time ON failures(at);
)sql";

// Resets a statement after use, whatever happens in between.
class Use {
 public:
  explicit Use(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Use() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  Use& text(int index, std::string_view value) {
    sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Use& integer(int index, int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  // Runs the statement; returns the first column of its first row (0 for none), or -1.
  int64_t run() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return sqlite3_column_int64(stmt_, 0);
    return rc == SQLITE_DONE ? 0 : -1;
  }

 private:
  sqlite3_stmt* stmt_;
};

int64_t millis(LoginThrottle::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

void warn(sqlite3* db, std::string_view what) {
  log::Logger().warning("throttle_error", {{"op", what}, {"error", sqlite3_errmsg(db)}});
}

}  // namespace

struct LoginThrottle::Database {
  DbPtr db;
  StmtPtr insert, prune, forget, count_ip, count_user_ips, count_all;

  bool prepare(StmtPtr& out, const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
        SQLITE_OK) {
      return false;
    }
    out.reset(stmt);
    return true;
  }
};

Result<std::unique_ptr<LoginThrottle>> LoginThrottle::open(const fs::path& data_dir,
                                                           const config::Auth& settings) {
  fs::path dir = data_dir / "run";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return fail(Errc::kIo, fmt::format("{}: cannot create: {}", dir.string(), ec.message()));
  }
  fs::path file = dir / "throttle.db";
  auto database = std::make_unique<Database>();
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(file.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  database->db.reset(raw);
  if (rc != SQLITE_OK) {
    return fail(Errc::kIo, fmt::format("{}: {}", file.string(),
                                       raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  char* message = nullptr;
  if (sqlite3_exec(raw, kSchema, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    return fail(Errc::kIo, fmt::format("{}: {}", file.string(), text));
  }
  Database& d = *database;
  bool ok = d.prepare(d.insert, "INSERT INTO failures(ip, user, at) VALUES (?1, ?2, ?3)") &&
            d.prepare(d.prune, "DELETE FROM failures WHERE at <= ?1") &&
            d.prepare(d.forget, "DELETE FROM failures WHERE ip = ?1 AND user = ?2") &&
            d.prepare(d.count_ip, "SELECT count(*) FROM failures WHERE ip = ?1 AND at > ?2") &&
            d.prepare(d.count_user_ips,
                      "SELECT count(DISTINCT ip) FROM failures WHERE user = ?1 AND at > ?2") &&
            d.prepare(d.count_all, "SELECT count(*) FROM failures WHERE at > ?1");
  if (!ok) return fail(Errc::kIo, fmt::format("{}: {}", file.string(), sqlite3_errmsg(raw)));
  return std::make_unique<LoginThrottle>(Key(), std::move(database), settings);
}

LoginThrottle::LoginThrottle(Key, std::unique_ptr<Database> db, config::Auth settings)
    : db_(std::move(db)), settings_(settings), verified_logins_(settings.login_cache) {}

LoginThrottle::~LoginThrottle() = default;

std::string LoginThrottle::address_key(std::string_view ip) {
  std::string text(ip);
  unsigned char addr[16];
  if (inet_pton(AF_INET6, text.c_str(), addr) != 1) return text;
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  char out[INET6_ADDRSTRLEN];
  if (std::memcmp(addr, kMapped, sizeof kMapped) == 0) {
    inet_ntop(AF_INET, addr + 12, out, sizeof out);
    return out;
  }
  std::memset(addr + 8, 0, 8);
  inet_ntop(AF_INET6, addr, out, sizeof out);
  return std::string(out) + "/64";
}

void LoginThrottle::record_failure(std::string_view ip, std::string_view user,
                                   Clock::time_point now) {
  std::string key = address_key(ip);
  std::string who = text::ascii_lowercase(user);
  std::lock_guard lock(mutex_);
  int64_t t = millis(now);
  if (Use(db_->prune.get()).integer(1, t - window_ms()).run() < 0) warn(db_->db.get(), "prune");
  if (Use(db_->insert.get()).text(1, key).text(2, who).integer(3, t).run() < 0) {
    warn(db_->db.get(), "record_failure");
  }
}

void LoginThrottle::record_success(std::string_view ip, std::string_view user, Clock::time_point) {
  std::string key = address_key(ip);
  std::string who = text::ascii_lowercase(user);
  std::lock_guard lock(mutex_);
  if (Use(db_->forget.get()).text(1, key).text(2, who).run() < 0) {
    warn(db_->db.get(), "record_success");
  }
}

int64_t LoginThrottle::window_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(settings_.failure_window).count();
}

std::chrono::milliseconds LoginThrottle::doubling(int64_t count) const {
  if (count <= 0) return std::chrono::milliseconds(0);
  // Beyond 2^30 times the base every delay is capped anyway.
  int64_t shift = std::min<int64_t>(count - 1, 30);
  int64_t delay = settings_.failure_delay.count() << shift;
  return std::min(std::chrono::milliseconds(delay), settings_.max_failure_delay);
}

std::chrono::milliseconds LoginThrottle::delay_for(std::string_view ip, std::string_view user,
                                                   Clock::time_point now) {
  std::string key = address_key(ip);
  std::string who = text::ascii_lowercase(user);
  int64_t since = millis(now) - window_ms();
  int64_t by_ip, user_ips, all;
  {
    std::lock_guard lock(mutex_);
    by_ip = Use(db_->count_ip.get()).text(1, key).integer(2, since).run();
    user_ips = Use(db_->count_user_ips.get()).text(1, who).integer(2, since).run();
    all = Use(db_->count_all.get()).integer(1, since).run();
    if (by_ip < 0 || user_ips < 0 || all < 0) {
      warn(db_->db.get(), "delay_for");
      return settings_.failure_delay;
    }
  }
  std::chrono::milliseconds delay = std::max(doubling(by_ip), doubling(user_ips - 1));
  std::chrono::milliseconds global = std::min(
      settings_.failure_delay * (all / std::max<int64_t>(settings_.global_failure_threshold, 1)),
      settings_.max_failure_delay / 4);
  return std::min(std::max(delay, global), settings_.max_failure_delay);
}

}  // namespace chapar::auth
