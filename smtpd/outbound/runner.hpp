// SPDX-License-Identifier: AGPL-3.0-or-later
// The queue runner inside chapar-smtpd: delivers what the store's outbound queue holds.
//
// A pass takes the entries that are due (Store::due_queue_entries), prepares each message
// on a worker thread (prepare.hpp: Return-Path out, DKIM signature in), splits its pending
// recipients by destination domain (or sends them all to the smarthost) and runs one
// Delivery per destination, within max_concurrent_deliveries overall and
// max_per_destination per destination. When every destination of an entry has answered,
// decide() (schedule.hpp) says what changed; the notifications it asks for are composed
// (dsn.hpp) and delivered first — into the sender's INBOX when the sender is local, else
// queued with the null sender — and then the entry is updated, or removed once no
// recipient is pending. A crash in between repeats a notification or a delivery but never
// loses one (at least once), and a recipient is never both delivered and bounced: its
// state changes once, from pending.
//
// Passes run when the store announces queue work (a new message, `chaparctl queue retry`),
// when the earliest next attempt falls due, and every `recheck` in case an announcement
// was lost. Everything runs on the loop thread except preparation and DSN composition.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/dns/resolver.hpp"
#include "common/log.hpp"
#include "common/result.hpp"
#include "common/tls/context.hpp"
#include "libmailstore/store.hpp"
#include "smtpd/outbound/delivery.hpp"
#include "smtpd/outbound/prepare.hpp"
#include "smtpd/outbound/schedule.hpp"

namespace chapar {
struct DaemonContext;
}

namespace chapar::smtp::outbound {

struct RunnerSettings {
  size_t max_entries = 200;  // queue entries being worked on at once
  std::chrono::seconds recheck{60};
};

class QueueRunner {
 public:
  // `store` is the daemon's store for this loop thread; it must outlive the runner.
  static Result<std::unique_ptr<QueueRunner>> create(uv_loop_t* loop, const config::Config& config,
                                                     store::Store& store, log::Logger logger,
                                                     RunnerSettings settings = {});
  QueueRunner(uv_loop_t* loop, const config::Config& config, store::Store& store,
              log::Logger logger, RunnerSettings settings);  // use create()
  ~QueueRunner();
  QueueRunner(const QueueRunner&) = delete;
  QueueRunner& operator=(const QueueRunner&) = delete;

  // Starts watching the queue; the first pass runs from the loop at once.
  Status start();
  // Stops passes, cuts off open connections and closes the runner's handles; deliveries cut
  // off stay pending in the store and are tried again after the next start.
  void stop();

 private:
  struct Inbox;
  struct Job {
    store::QueueEntry entry;
    std::shared_ptr<const OutboundMessage> message;
    std::vector<std::optional<AttemptResult>> results;
    size_t deliveries_left = 0;
    std::optional<Decision> decision;
    std::vector<std::vector<DsnRecipient>> reports;  // still to send
  };
  struct Waiting {
    store::QueueId job = 0;
    std::string destination;
    std::vector<size_t> recipients;  // indexes into the entry's recipients
  };

  static void on_timer(uv_timer_t* timer);
  static void on_poll(uv_poll_t* poll, int status, int events);
  static void on_async(uv_async_t* async);

  void pass();
  void schedule_next(int64_t now);
  void start_job(store::QueueEntry entry, int64_t now);
  void prepared(store::QueueId id, Result<OutboundMessage> message);
  void dispatch();
  void start_delivery(Waiting waiting);
  void delivery_done(Delivery* delivery, const Waiting& waiting,
                     std::vector<AttemptResult> results);
  void finish_job(Job& job);
  void log_results(const Job& job);
  void send_next_report(store::QueueId id);
  void report_sent(store::QueueId id, Status status);
  void record(store::QueueId id);
  void job_done(store::QueueId id);
  // Runs `work` on a libuv worker, then `after` on the loop (not after stop()).
  void run_blocking(std::function<void()> work, std::function<void()> after);
  // The completion of a store write, run on the loop (dropped after stop()).
  std::function<void(std::function<void()>)> poster();
  // On a worker thread: the notification as a message ready for the store.
  Result<store::PreparedMessage> compose_report(const store::QueueEntry& entry,
                                                std::shared_ptr<const OutboundMessage> message,
                                                const std::vector<DsnRecipient>& lines,
                                                int64_t retry_until);
  int64_t now() const;

  uv_loop_t* loop_;
  const config::Config& config_;
  store::Store& store_;
  log::Logger logger_;
  RunnerSettings settings_;
  std::unique_ptr<store::Store> worker_store_;  // for worker threads, one at a time
  std::mutex worker_mutex_;
  std::unique_ptr<dns::Resolver> resolver_;
  std::optional<tls::Context> tls_;
  DeliveryServices services_;
  std::unique_ptr<store::Store::ChangeListener> listener_;
  std::shared_ptr<Inbox> inbox_;

  uv_timer_t timer_{};
  uv_poll_t poll_{};
  uv_async_t async_{};
  bool handles_open_ = false;
  bool stopping_ = false;

  std::map<store::QueueId, std::unique_ptr<Job>> jobs_;
  std::deque<Waiting> waiting_;
  std::list<std::unique_ptr<Delivery>> active_;
  std::map<std::string, size_t> per_destination_;
  size_t works_in_flight_ = 0;
};

// For chapar-smtpd's setup: creates and starts the runner on the daemon's loop and store,
// and stops it when the daemon begins to shut down.
Result<std::shared_ptr<QueueRunner>> start_queue_runner(DaemonContext& context,
                                                        store::Store& store);

}  // namespace chapar::smtp::outbound
