// SPDX-License-Identifier: AGPL-3.0-or-later
// The writer: one thread per process that owns the write connection. Requests queue up
// while a commit is being made durable; the next transaction takes all of them at once
// (group commit: one fsync for many requests). Each request runs in its own SAVEPOINT, so
// one that fails (quota, a missing mailbox) is rolled back alone and the rest commit.
// Completions run on the writer thread after COMMIT returns, then the mailboxes that
// changed are announced to every listener in the run directory.
//
// Checkpoints: SQLite's own would run inside COMMIT once the WAL passes 1,000 pages, so
// the request whose commit crossed the line would wait for it (a sync of the WAL, the
// copy into the database, a sync of the database). The writer turns that off and
// checkpoints itself (PASSIVE) after the completions of a commit have run, once the WAL
// holds checkpoint_pages pages. Every commit stays one fsync of the WAL
// (synchronous=FULL): durability does not depend on when checkpoints run.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "libmailstore/database.hpp"
#include "libmailstore/types.hpp"

namespace chapar::store {

// What a request sees while it runs inside the writer's transaction.
class WriteContext {
 public:
  WriteContext(Database& db, UnixTime now) : db_(db), now_(now) {}
  Database& db() { return db_; }
  // The time the transaction started; used for save dates, queue times and UIDVALIDITY.
  UnixTime now() const { return now_; }
  // Records that `mailbox` reached `modseq`, to be announced after the commit.
  void changed(MailboxId mailbox, ModSeq modseq) { changes_.emplace_back(mailbox, modseq); }
  std::vector<std::pair<MailboxId, ModSeq>>& changes() { return changes_; }

 private:
  Database& db_;
  UnixTime now_;
  std::vector<std::pair<MailboxId, ModSeq>> changes_;
};

struct WriterOptions {
  std::filesystem::path database;
  std::filesystem::path run_dir;  // where change listeners bind their sockets
  int busy_timeout_ms = 10000;
  size_t max_batch = 1024;  // requests per transaction
  // A larger WAL means fewer checkpoints, each of them syncing the WAL and the database
  // (and the next commit its new WAL header): 8,192 pages of 4 KB are 32 MB, about a
  // thousand 4 KB deliveries between checkpoints.
  int checkpoint_pages = 8192;
};

class Writer {
 public:
  using Work = std::function<Status(WriteContext&)>;
  using Done = std::function<void(Status)>;

  // Opens the write connection, applies pending migrations and starts the thread.
  static Result<std::shared_ptr<Writer>> start(const WriterOptions& options);
  // Finishes every queued request, then stops the thread.
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Queues `work`; `done` runs on the writer thread with its outcome once the transaction
  // holding it has committed (or failed). Thread-safe.
  void submit(Work work, Done done);

  WriterStats stats() const;

 private:
  // Shared by the handle and the thread, so that the thread can finish its batch even
  // when a completion drops the last Store (and with it this handle) on the writer thread.
  struct State;

  explicit Writer(std::shared_ptr<State> state) : state_(std::move(state)) {}

  std::shared_ptr<State> state_;
  std::thread thread_;
};

// Submits `op` (Result<T>(WriteContext&)) and hands its result to `done` after the commit.
template <typename T, typename Op>
void submit_op(Writer& writer, Op op, std::function<void(Result<T>)> done) {
  auto out = std::make_shared<std::optional<Result<T>>>();
  writer.submit(
      [op = std::move(op), out](WriteContext& ctx) -> Status {
        Result<T> result = op(ctx);
        if (!result) return Unexpected{result.error()};
        out->emplace(std::move(result));
        return {};
      },
      [out, done = std::move(done)](Status status) {
        if (!done) return;
        if (!status) {
          done(Unexpected{status.error()});
        } else {
          done(std::move(**out));
        }
      });
}

// The same, waiting for the outcome. Never call it from a completion (the writer thread).
template <typename T, typename Op>
Result<T> run_op(Writer& writer, Op op) {
  std::promise<Result<T>> promise;
  auto future = promise.get_future();
  submit_op<T>(writer, std::move(op),
               [&promise](Result<T> result) { promise.set_value(std::move(result)); });
  return future.get();
}

}  // namespace chapar::store
