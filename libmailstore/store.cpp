// SPDX-License-Identifier: AGPL-3.0-or-later
// Opening the store, the maildrop lock, change listeners and statistics.
#include "libmailstore/store.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <system_error>

#include "libmailstore/database.hpp"
#include "libmailstore/notify.hpp"
#include "libmailstore/writer.hpp"

namespace chapar::store {

namespace {

constexpr const char* kTempDir = "tmp";
constexpr const char* kRunDir = "run";
constexpr const char* kLocksDir = "locks";

Status make_directory(const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return fail(Errc::kIo, fmt::format("create {}: {}", path.string(), ec.message()));
  return {};
}

}  // namespace

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options) {
  auto database = options.data_dir / kDatabaseName;
  std::error_code ec;
  if (!std::filesystem::exists(database, ec)) {
    if (!options.create) {
      return fail(Errc::kNotFound, fmt::format("no store in {}", options.data_dir.string()));
    }
    if (auto s = make_directory(options.data_dir); !s) return Unexpected{s.error()};
    std::filesystem::permissions(options.data_dir,
                                 std::filesystem::perms::owner_all |
                                     std::filesystem::perms::group_read |
                                     std::filesystem::perms::group_exec,
                                 ec);
    // The database holds password hashes: readable by its owner and group only. SQLite
    // gives its -wal and -shm files the same mode.
    int fd = ::open(database.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd >= 0) close(fd);
  }
  for (const char* sub : {kTempDir, kRunDir, kLocksDir}) {
    if (auto s = make_directory(options.data_dir / sub); !s) return Unexpected{s.error()};
  }
  WriterOptions writer_options;
  writer_options.database = database;
  writer_options.run_dir = options.data_dir / kRunDir;
  writer_options.busy_timeout_ms = options.busy_timeout_ms;
  writer_options.max_batch = std::max<size_t>(options.max_batch, 1);
  writer_options.checkpoint_pages = std::max(options.checkpoint_pages, 1);
  auto writer = Writer::start(writer_options);
  if (!writer) return Unexpected{writer.error()};
  return attach(options.data_dir, std::move(*writer), options.busy_timeout_ms);
}

Result<std::unique_ptr<Store>> Store::attach(std::filesystem::path data_dir,
                                             std::shared_ptr<Writer> writer, int busy_timeout_ms) {
  auto db = Database::open(data_dir / kDatabaseName, DatabaseOptions{busy_timeout_ms, true});
  if (!db) return Unexpected{db.error()};
  std::unique_ptr<Store> store(new Store());
  store->db_ = std::move(*db);
  store->writer_ = std::move(writer);
  store->data_dir_ = std::move(data_dir);
  store->busy_timeout_ms_ = busy_timeout_ms;
  return store;
}

Result<std::unique_ptr<Store>> Store::open_another() const {
  return attach(data_dir_, writer_, busy_timeout_ms_);
}

Store::~Store() = default;

const std::filesystem::path& Store::data_dir() const {
  return data_dir_;
}

std::filesystem::path Store::temp_dir() const {
  return data_dir_ / kTempDir;
}

WriterStats Store::writer_stats() const {
  return writer_->stats();
}

// --- POP3 maildrop lock ---

MaildropLock& MaildropLock::operator=(MaildropLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

MaildropLock::~MaildropLock() {
  // Closing the descriptor releases the flock.
  if (fd_ >= 0) close(fd_);
}

Result<MaildropLock> Store::lock_maildrop(AccountId account) {
  auto path = data_dir_ / kLocksDir / fmt::format("{}.lock", account);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return fail(Errc::kIo, fmt::format("open {}: {}", path.string(), std::strerror(errno)));
  }
  MaildropLock lock(fd);
  int rc;
  do {
    rc = flock(fd, LOCK_EX | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    if (errno == EWOULDBLOCK) return fail(Errc::kBusy, "maildrop locked by another session");
    return fail(Errc::kIo, fmt::format("flock {}: {}", path.string(), std::strerror(errno)));
  }
  return lock;
}

// --- Change listeners ---

Result<std::unique_ptr<Store::ChangeListener>> Store::listen_for_changes() {
  std::filesystem::path path;
  auto fd = bind_listener(data_dir_ / kRunDir, path);
  if (!fd) return Unexpected{fd.error()};
  std::unique_ptr<ChangeListener> listener(new ChangeListener());
  listener->fd_ = *fd;
  listener->path_ = std::move(path);
  return listener;
}

// --- Statistics ---

Result<Store::Stats> Store::stats() {
  auto q = db_->query(
      "SELECT (SELECT COUNT(*) FROM domains), (SELECT COUNT(*) FROM accounts), "
      "(SELECT COUNT(*) FROM mailboxes), (SELECT COUNT(*) FROM messages), "
      "(SELECT COALESCE(SUM(size), 0) FROM messages), (SELECT COUNT(*) FROM queue)");
  if (!q) return Unexpected{q.error()};
  auto row = q->next();
  if (!row) return Unexpected{row.error()};
  Stats stats;
  stats.domains = static_cast<uint64_t>(q->integer(0));
  stats.accounts = static_cast<uint64_t>(q->integer(1));
  stats.mailboxes = static_cast<uint64_t>(q->integer(2));
  stats.messages = static_cast<uint64_t>(q->integer(3));
  stats.bytes = static_cast<uint64_t>(q->integer(4));
  stats.queued = static_cast<uint64_t>(q->integer(5));
  return stats;
}

}  // namespace chapar::store
