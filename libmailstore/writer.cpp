// SPDX-License-Identifier: AGPL-3.0-or-later
#include "libmailstore/writer.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>

#include "libmailstore/notify.hpp"
#include "libmailstore/schema.hpp"

namespace chapar::store {

struct Writer::State {
  struct Request {
    Work work;
    Done done;
  };

  WriterOptions options;
  std::unique_ptr<Database> db;
  std::unique_ptr<Announcer> announcer;

  std::mutex mutex;
  std::condition_variable wake;
  std::deque<Request> queue;
  bool stopping = false;
  std::atomic<uint64_t> commits{0};
  std::atomic<uint64_t> requests{0};
  int wal_pages = 0;  // the WAL's length after the last commit (writer thread only)

  void run();
  void commit(std::vector<Request>& batch);
  void announce(const std::vector<std::pair<MailboxId, ModSeq>>& changes);
  void checkpoint();
};

Result<std::shared_ptr<Writer>> Writer::start(const WriterOptions& options) {
  auto db = Database::open(options.database, DatabaseOptions{options.busy_timeout_ms, false});
  if (!db) return Unexpected{db.error()};
  if (auto s = migrate(**db); !s) return Unexpected{s.error()};
  auto state = std::make_shared<State>();
  state->options = options;
  state->db = std::move(*db);
  // Replaces SQLite's automatic checkpoint (which is a WAL hook too).
  sqlite3_wal_hook(
      state->db->handle(),
      [](void* self, sqlite3*, const char*, int pages) {
        static_cast<State*>(self)->wal_pages = pages;
        return SQLITE_OK;
      },
      state.get());
  state->announcer = std::make_unique<Announcer>(options.run_dir);
  std::shared_ptr<Writer> writer(new Writer(state));
  writer->thread_ = std::thread([state] { state->run(); });
  return writer;
}

Writer::~Writer() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  if (thread_.get_id() == std::this_thread::get_id()) {
    // Dropped by a completion on the writer thread: the thread holds the state and ends
    // by itself once the queue is empty.
    thread_.detach();
  } else if (thread_.joinable()) {
    thread_.join();
  }
}

void Writer::submit(Work work, Done done) {
  {
    std::lock_guard lock(state_->mutex);
    state_->queue.push_back(State::Request{std::move(work), std::move(done)});
  }
  state_->wake.notify_one();
}

WriterStats Writer::stats() const {
  return WriterStats{state_->commits.load(std::memory_order_relaxed),
                     state_->requests.load(std::memory_order_relaxed)};
}

void Writer::State::run() {
  std::vector<Request> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex);
      wake.wait(lock, [this] { return stopping || !queue.empty(); });
      if (queue.empty()) return;  // stopping, and nothing left to do
      size_t n = std::min(queue.size(), options.max_batch);
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue.front()));
        queue.pop_front();
      }
    }
    commit(batch);
    batch.clear();
    checkpoint();
  }
}

void Writer::State::commit(std::vector<Request>& batch) {
  auto now = static_cast<UnixTime>(std::time(nullptr));
  std::vector<Status> outcomes(batch.size());
  std::vector<std::pair<MailboxId, ModSeq>> changes;

  auto fail_all = [&](const Error& error) {
    for (auto& outcome : outcomes) outcome = Unexpected{error};
    changes.clear();
  };

  auto txn = Transaction::begin(*db, Transaction::Mode::kImmediate);
  if (!txn) {
    fail_all(txn.error());
  } else {
    bool aborted = false;
    for (size_t i = 0; i < batch.size() && !aborted; ++i) {
      auto savepoint = Savepoint::begin(*db);
      if (!savepoint) {
        fail_all(savepoint.error());
        aborted = true;
        break;
      }
      WriteContext ctx(*db, now);
      Status status = batch[i].work(ctx);
      if (status) status = savepoint->release();
      if (status) {
        changes.insert(changes.end(), ctx.changes().begin(), ctx.changes().end());
      } else {
        outcomes[i] = status;
      }
      if (!db->in_transaction()) {
        // SQLite rolled the whole transaction back (I/O error, disk full): nothing of
        // this batch survives, including the requests that had succeeded.
        fail_all(status ? Error{Errc::kIo, "transaction rolled back"} : status.error());
        aborted = true;
      }
    }
    if (!aborted) {
      if (auto s = txn->commit(); s) {
        commits.fetch_add(1, std::memory_order_relaxed);
      } else {
        fail_all(s.error());
      }
    }
  }
  requests.fetch_add(batch.size(), std::memory_order_relaxed);

  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].done) batch[i].done(std::move(outcomes[i]));
  }
  announce(changes);
}

void Writer::State::announce(const std::vector<std::pair<MailboxId, ModSeq>>& changes) {
  if (changes.empty()) return;
  std::map<MailboxId, ModSeq> latest;
  for (const auto& [mailbox, modseq] : changes) {
    auto& slot = latest[mailbox];
    slot = std::max(slot, modseq);
  }
  announcer->send(latest);
}

void Writer::State::checkpoint() {
  if (wal_pages < options.checkpoint_pages) return;
  // PASSIVE never waits for readers or other writers; what it cannot copy now is copied
  // by a later one. Until the WAL is reset its length stays above the mark, so this runs
  // after every commit, as SQLite's automatic checkpoint would.
  (void)sqlite3_wal_checkpoint_v2(db->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                  nullptr);
  wal_pages = 0;
}

}  // namespace chapar::store
