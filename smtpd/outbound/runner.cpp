// SPDX-License-Identifier: AGPL-3.0-or-later
#include "smtpd/outbound/runner.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <limits>
#include <utility>

#include "common/daemon.hpp"
#include "smtpd/outbound/route.hpp"

namespace chapar::smtp::outbound {

// Completions from other threads (the store's writer), handed to the loop. Once closed,
// posts are dropped: the runner is stopping.
struct QueueRunner::Inbox {
  std::mutex mutex;
  uv_async_t* async = nullptr;
  std::vector<std::function<void()>> items;

  void post(std::function<void()> fn) {
    std::lock_guard lock(mutex);
    if (async == nullptr) return;
    items.push_back(std::move(fn));
    uv_async_send(async);
  }
  std::vector<std::function<void()>> take() {
    std::lock_guard lock(mutex);
    return std::exchange(items, {});
  }
  void close() {
    std::lock_guard lock(mutex);
    async = nullptr;
    items.clear();
  }
};

namespace {

Result<std::string> read_password(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    return fail(Errc::kIo, fmt::format("smtpd.outbound.smarthost_password_file: cannot read {}",
                                       path.string()));
  }
  std::string password;
  std::getline(in, password);
  while (!password.empty() && (password.back() == '\r' || password.back() == '\n')) {
    password.pop_back();
  }
  return password;
}

std::string resolver_server(const std::string& configured) {
  if (configured.empty()) return {};
  auto hp = config::parse_host_port(configured, 53);
  if (!hp) return configured;
  return hp->host.find(':') != std::string::npos ? fmt::format("[{}]:{}", hp->host, hp->port)
                                                 : fmt::format("{}:{}", hp->host, hp->port);
}

struct Work {
  uv_work_t req{};
  std::function<void()> work;
  std::function<void()> after;
  size_t* in_flight = nullptr;
  const bool* stopping = nullptr;
};

}  // namespace

QueueRunner::QueueRunner(uv_loop_t* loop, const config::Config& config, store::Store& store,
                         log::Logger logger, RunnerSettings settings)
    : loop_(loop),
      config_(config),
      store_(store),
      logger_(std::move(logger)),
      settings_(settings),
      inbox_(std::make_shared<Inbox>()) {}

Result<std::unique_ptr<QueueRunner>> QueueRunner::create(uv_loop_t* loop,
                                                         const config::Config& config,
                                                         store::Store& store, log::Logger logger,
                                                         RunnerSettings settings) {
  auto runner = std::make_unique<QueueRunner>(loop, config, store, std::move(logger), settings);
  const config::Outbound& o = config.smtpd.outbound;
  auto worker = store.open_another();
  if (!worker) return Unexpected{worker.error()};
  runner->worker_store_ = std::move(*worker);
  auto resolver = dns::Resolver::create(loop, resolver_server(o.resolver));
  if (!resolver) return Unexpected{resolver.error()};
  runner->resolver_ = std::move(*resolver);
  tls::ClientOptions tls_options;
  tls_options.verify_peer = o.verify_certificates;
  auto tls = tls::Context::client(tls_options);
  if (!tls) return Unexpected{tls.error()};
  runner->tls_.emplace(std::move(*tls));

  DeliveryServices& services = runner->services_;
  services.loop = loop;
  services.resolver = runner->resolver_.get();
  services.tls = &*runner->tls_;
  services.logger = runner->logger_;
  services.helo_name = config.server.hostname;
  services.mx_port = o.mx_port;
  services.verify_certificates = o.verify_certificates;
  services.connect_timeout = o.connect_timeout;
  services.timeouts.greeting = o.reply_timeout;
  services.timeouts.command = o.reply_timeout;
  services.timeouts.data_start = o.data_start_timeout;
  services.timeouts.data_block = o.data_block_timeout;
  services.timeouts.data_end = o.data_end_timeout;
  if (!o.smarthost.empty()) {
    auto hp = config::parse_host_port(o.smarthost, 25);
    if (!hp) return Unexpected{hp.error()};
    Smarthost smarthost;
    smarthost.host = hp->host;
    smarthost.port = hp->port;
    if (o.smarthost_tls == "implicit") {
      smarthost.implicit_tls = true;
    } else if (o.smarthost_tls == "none") {
      smarthost.tls = TlsPolicy::kNone;
    }
    if (!o.smarthost_user.empty()) {
      auto password = read_password(o.smarthost_password_file);
      if (!password) return Unexpected{password.error()};
      smarthost.credentials = auth::Credentials{o.smarthost_user, std::move(*password)};
    }
    services.smarthost = std::move(smarthost);
  }
  return runner;
}

QueueRunner::~QueueRunner() = default;

Status QueueRunner::start() {
  auto listener = store_.listen_for_changes();
  if (!listener) return Unexpected{listener.error()};
  listener_ = std::move(*listener);
  uv_timer_init(loop_, &timer_);
  uv_async_init(loop_, &async_, &QueueRunner::on_async);
  int rc = uv_poll_init(loop_, &poll_, listener_->fd());
  timer_.data = async_.data = poll_.data = this;
  handles_open_ = true;
  {
    std::lock_guard lock(inbox_->mutex);
    inbox_->async = &async_;
  }
  if (rc == 0) rc = uv_poll_start(&poll_, UV_READABLE, &QueueRunner::on_poll);
  if (rc != 0) {
    stop();
    return fail(Errc::kIo, fmt::format("cannot watch the queue: {}", uv_strerror(rc)));
  }
  uv_timer_start(&timer_, &QueueRunner::on_timer, 0, 0);
  const auto& smarthost = services_.smarthost;
  logger_.info("queue_runner_started",
               {{"smarthost", smarthost ? fmt::format("{}:{}", smarthost->host, smarthost->port)
                                        : std::string("none")},
                {"mx_port", services_.mx_port}});
  return {};
}

void QueueRunner::stop() {
  if (stopping_) return;
  stopping_ = true;
  inbox_->close();
  if (handles_open_) {
    handles_open_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&timer_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
  }
  waiting_.clear();
  for (auto& delivery : active_) {
    if (delivery) delivery->abort();
  }
  // Queries still pending are abandoned with the resolver; their deliveries end with it.
  resolver_.reset();
  services_.resolver = nullptr;
}

int64_t QueueRunner::now() const {
  return static_cast<int64_t>(std::time(nullptr));
}

void QueueRunner::on_timer(uv_timer_t* timer) {
  static_cast<QueueRunner*>(timer->data)->pass();
}

void QueueRunner::on_poll(uv_poll_t* poll, int status, int) {
  auto* self = static_cast<QueueRunner*>(poll->data);
  if (status < 0 || self->stopping_) return;
  std::vector<store::MailboxId> changed = self->listener_->drain();
  if (std::find(changed.begin(), changed.end(), store::kQueueChanges) != changed.end()) {
    self->pass();
  }
}

void QueueRunner::on_async(uv_async_t* async) {
  auto* self = static_cast<QueueRunner*>(async->data);
  for (auto& fn : self->inbox_->take()) {
    if (self->stopping_) return;
    fn();
  }
}

std::function<void(std::function<void()>)> QueueRunner::poster() {
  return [inbox = inbox_](std::function<void()> fn) { inbox->post(std::move(fn)); };
}

void QueueRunner::run_blocking(std::function<void()> work, std::function<void()> after) {
  auto request = std::make_unique<Work>();
  request->work = std::move(work);
  request->after = std::move(after);
  request->in_flight = &works_in_flight_;
  request->stopping = &stopping_;
  request->req.data = request.get();
  int rc = uv_queue_work(
      loop_, &request->req, [](uv_work_t* req) { static_cast<Work*>(req->data)->work(); },
      [](uv_work_t* req, int) {
        std::unique_ptr<Work> done(static_cast<Work*>(req->data));
        --*done->in_flight;
        if (!*done->stopping) done->after();
      });
  if (rc != 0) {
    // Cannot happen with a live loop; run it here rather than lose the step.
    request->work();
    request->after();
    return;
  }
  ++works_in_flight_;
  request.release();  // reclaimed in the after-work callback
}

void QueueRunner::pass() {
  if (stopping_) return;
  int64_t t = now();
  if (jobs_.size() < settings_.max_entries) {
    auto due = store_.due_queue_entries(t, settings_.max_entries + jobs_.size());
    if (!due) {
      logger_.error("queue_read_failed", {{"error", due.error().message}});
    } else {
      for (store::QueueEntry& entry : *due) {
        if (jobs_.size() >= settings_.max_entries) break;
        if (jobs_.count(entry.id) != 0) continue;
        start_job(std::move(entry), t);
      }
    }
  }
  schedule_next(t);
}

void QueueRunner::schedule_next(int64_t t) {
  std::chrono::milliseconds delay = settings_.recheck;
  auto upcoming = store_.due_queue_entries(std::numeric_limits<int64_t>::max(), jobs_.size() + 1);
  if (upcoming) {
    for (const store::QueueEntry& entry : *upcoming) {
      if (jobs_.count(entry.id) != 0) continue;
      bool full = jobs_.size() >= settings_.max_entries;
      if (!full) {
        int64_t seconds = std::max<int64_t>(0, entry.next_attempt - t);
        delay = std::min<std::chrono::milliseconds>(delay, std::chrono::seconds(seconds));
      }
      break;
    }
  }
  uv_timer_start(&timer_, &QueueRunner::on_timer, static_cast<uint64_t>(delay.count()), 0);
}

void QueueRunner::start_job(store::QueueEntry entry, int64_t t) {
  store::QueueId id = entry.id;
  auto job = std::make_unique<Job>();
  job->results.resize(entry.recipients.size());
  store::MessageId message = entry.message;
  std::string sender = entry.sender;
  job->entry = std::move(entry);
  jobs_.emplace(id, std::move(job));
  PrepareOptions options{config_.store.data_dir / "dkim", t};
  auto result = std::make_shared<std::optional<Result<OutboundMessage>>>();
  run_blocking(
      [this, result, message, sender, options] {
        std::lock_guard lock(worker_mutex_);
        result->emplace(prepare_outbound(*worker_store_, message, sender, options));
      },
      [this, id, result] { prepared(id, std::move(**result)); });
}

void QueueRunner::prepared(store::QueueId id, Result<OutboundMessage> message) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  Job& job = *it->second;
  const auto& recipients = job.entry.recipients;
  if (!message) {
    logger_.error("outbound_prepare_failed", {{"queue", id}, {"error", message.error().message}});
    RecipientResult local{Outcome::kTemporary,
                          fmt::format("local error: {}", message.error().message), "4.3.0", false};
    for (size_t i = 0; i < recipients.size(); ++i) {
      if (recipients[i].state == store::RecipientState::kPending) {
        job.results[i] = AttemptResult{local, "", false};
      }
    }
    return finish_job(job);
  }
  if (!message->signed_by.empty()) {
    logger_.info("dkim_signed", {{"queue", id}, {"domain", message->signed_by}});
  }
  job.message = std::make_shared<const OutboundMessage>(std::move(*message));
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < recipients.size(); ++i) {
    if (recipients[i].state != store::RecipientState::kPending) continue;
    std::string destination = services_.smarthost ? config_.smtpd.outbound.smarthost
                                                  : address_domain(recipients[i].recipient.address);
    groups[destination].push_back(i);
  }
  if (groups.empty()) return finish_job(job);
  for (auto& [destination, indexes] : groups) {
    ++job.deliveries_left;
    waiting_.push_back(Waiting{id, destination, std::move(indexes)});
  }
  dispatch();
}

void QueueRunner::dispatch() {
  const config::Outbound& o = config_.smtpd.outbound;
  size_t max_total = std::max<size_t>(1, o.max_concurrent_deliveries);
  size_t max_each = std::max<size_t>(1, o.max_per_destination);
  size_t running = 0;
  for (const auto& [destination, count] : per_destination_) running += count;
  for (auto it = waiting_.begin(); it != waiting_.end() && running < max_total;) {
    if (per_destination_[it->destination] >= max_each) {
      ++it;
      continue;
    }
    Waiting waiting = std::move(*it);
    it = waiting_.erase(it);
    ++running;
    start_delivery(std::move(waiting));
  }
}

void QueueRunner::start_delivery(Waiting waiting) {
  Job& job = *jobs_.at(waiting.job);
  Envelope envelope;
  envelope.sender = job.entry.sender;
  envelope.dsn = job.entry.dsn;
  for (size_t i : waiting.recipients)
    envelope.recipients.push_back(job.entry.recipients[i].recipient);
  std::shared_ptr<const OutboundMessage> message = job.message;
  ++per_destination_[waiting.destination];
  active_.push_back(nullptr);
  auto slot = std::prev(active_.end());
  std::string destination = waiting.destination;
  *slot = std::make_unique<Delivery>(
      services_, destination, std::move(envelope),
      [this, message] { return message->source(store_); },
      [this, slot, waiting = std::move(waiting)](std::vector<AttemptResult> results) {
        delivery_done(slot->get(), waiting, std::move(results));
        // Freed from the loop, not from inside its own callback.
        inbox_->post([this, slot] { active_.erase(slot); });
      });
  (*slot)->start();
}

void QueueRunner::delivery_done(Delivery*, const Waiting& waiting,
                                std::vector<AttemptResult> results) {
  auto count = per_destination_.find(waiting.destination);
  if (count != per_destination_.end() && --count->second == 0) per_destination_.erase(count);
  if (stopping_) return;
  auto it = jobs_.find(waiting.job);
  if (it != jobs_.end()) {
    Job& job = *it->second;
    for (size_t k = 0; k < waiting.recipients.size() && k < results.size(); ++k) {
      job.results[waiting.recipients[k]] = std::move(results[k]);
    }
    if (--job.deliveries_left == 0) finish_job(job);
  }
  dispatch();
}

void QueueRunner::finish_job(Job& job) {
  job.decision = decide(job.entry, job.results, config_.smtpd.outbound, now());
  log_results(job);
  Decision& decision = *job.decision;
  for (auto* lines : {&decision.failed, &decision.delayed, &decision.relayed}) {
    if (!lines->empty()) job.reports.push_back(*lines);
  }
  send_next_report(job.entry.id);
}

void QueueRunner::log_results(const Job& job) {
  const Decision& decision = *job.decision;
  for (size_t i = 0; i < job.results.size(); ++i) {
    if (!job.results[i]) continue;
    const AttemptResult& attempt = *job.results[i];
    const store::QueueRecipientStatus& now_state = decision.entry.recipients[i];
    std::string_view status = "deferred";
    if (now_state.state == store::RecipientState::kDelivered) {
      status = "sent";
    } else if (now_state.state == store::RecipientState::kFailed) {
      status = attempt.result.outcome == Outcome::kPermanent ? "bounced" : "expired";
    }
    logger_.info("outbound_delivery",
                 {{"queue", job.entry.id},
                  {"to", now_state.recipient.address},
                  {"relay", attempt.remote_mta.empty() ? std::string("none") : attempt.remote_mta},
                  {"status", status},
                  {"dsn", attempt.result.status},
                  {"reply", attempt.result.reply},
                  {"attempts", decision.entry.attempts}});
  }
}

void QueueRunner::record(store::QueueId id) {
  Job& job = *jobs_.at(id);
  const Decision& decision = *job.decision;
  auto post = poster();
  auto done = [this, post, id](Status status) {
    post([this, id, status] {
      if (!status) {
        logger_.error("queue_update_failed", {{"queue", id}, {"error", status.error().message}});
      }
      job_done(id);
    });
  };
  if (decision.finished) {
    store_.remove_queue_entry(id, done);
  } else {
    store_.update_queue_entry(decision.entry, done);
  }
}

void QueueRunner::job_done(store::QueueId id) {
  jobs_.erase(id);
  pass();
}

Result<std::shared_ptr<QueueRunner>> start_queue_runner(DaemonContext& context,
                                                        store::Store& store) {
  auto runner = QueueRunner::create(context.loop, context.config, store, context.logger);
  if (!runner) return Unexpected{runner.error()};
  std::shared_ptr<QueueRunner> shared = std::move(*runner);
  if (Status started = shared->start(); !started) return Unexpected{started.error()};
  QueueRunner* raw = shared.get();
  context.on_shutdown([raw] { raw->stop(); });
  return shared;
}

}  // namespace chapar::smtp::outbound
