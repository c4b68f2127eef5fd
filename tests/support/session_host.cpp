// SPDX-License-Identifier: AGPL-3.0-or-later
#include "tests/support/session_host.hpp"

#include <doctest/doctest.h>

namespace chapar::test {
namespace {

// 2024-03-01 12:00:00 UTC: a fixed clock keeps scripted answers reproducible.
constexpr std::chrono::seconds kFixedNow{1709294400};

}  // namespace

TestHost::TestHost() : TestHost(Options{}) {}

TestHost::TestHost(Options options)
    : options_(std::move(options)), now_(std::chrono::system_clock::time_point(kFixedNow)) {
  if (options_.implicit_tls) tls_ = net::TlsInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, ""};
}

TestHost::~TestHost() {
  if (session_) disconnect();
}

void TestHost::open(const net::SessionFactory& factory) {
  session_ = factory(*this);
  REQUIRE(session_);
  session_->start();
  drain();
}

void TestHost::feed(std::string_view bytes) {
  if (closed_ || !session_) return;
  if (tls_requested_) return;  // plaintext behind STARTTLS never reaches the session
  session_->receive(bytes);
  drain();
}

void TestHost::drain() {
  using namespace std::chrono_literals;
  for (;;) {
    if (!local_.empty()) {
      auto fn = std::move(local_.front());
      local_.pop_front();
      fn();
      continue;
    }
    std::unique_lock lock(shared_->mutex);
    if (!shared_->completions.empty()) {
      auto fn = std::move(shared_->completions.front());
      shared_->completions.pop_front();
      lock.unlock();
      fn();
      continue;
    }
    if (shared_->in_flight == 0) break;
    bool delivered = shared_->ready.wait_for(
        lock, 30s, [&] { return !shared_->completions.empty() || shared_->in_flight == 0; });
    REQUIRE_MESSAGE(delivered, "an asynchronous completion was never delivered");
  }
  if (tls_requested_ && !closed_) {
    tls_requested_ = false;
    tls_ = net::TlsInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, ""};
    session_->on_tls_started();
    drain();
  }
}

std::string TestHost::take_output() {
  std::string out;
  out.swap(output_);
  return out;
}

void TestHost::disconnect() {
  if (!session_) return;
  drain();
  session_->on_disconnect();
  session_.reset();
  closed_ = true;
}

void TestHost::send(std::string_view bytes) {
  if (!closed_) output_.append(bytes);
}

void TestHost::run_blocking(std::function<void()> work, std::function<void()> done) {
  ++blocking_runs_;
  local_.push_back([work = std::move(work), done = std::move(done)] {
    work();
    done();
  });
}

net::LoopPoster TestHost::begin_async() {
  {
    std::lock_guard lock(shared_->mutex);
    ++shared_->in_flight;
  }
  return [shared = shared_](std::function<void()> fn) {
    std::lock_guard lock(shared->mutex);
    shared->completions.push_back(std::move(fn));
    --shared->in_flight;
    shared->ready.notify_all();
  };
}

void TestHost::run_later(std::chrono::milliseconds delay, std::function<void()> fn) {
  delays_.push_back(delay);
  local_.push_back(std::move(fn));
}

Script Script::parse(std::string_view text) {
  Script script;
  bool last_was_client = false;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (line.starts_with("C: ") || line == "C:") {
      if (!last_was_client) script.steps.emplace_back();
      script.steps.back().client.append(line.substr(std::min<size_t>(3, line.size())));
      script.steps.back().client.append("\r\n");
      last_was_client = true;
    } else if (line.starts_with("S: ") || line == "S:") {
      if (script.steps.empty()) script.steps.emplace_back();
      script.steps.back().server.append(line.substr(std::min<size_t>(3, line.size())));
      script.steps.back().server.append("\r\n");
      last_was_client = false;
    }
  }
  return script;
}

std::string Script::all_client() const {
  std::string all;
  for (const Step& s : steps) all += s.client;
  return all;
}

std::string Script::all_server() const {
  std::string all;
  for (const Step& s : steps) all += s.server;
  return all;
}

void replay(const net::SessionFactory& factory, std::string_view script_text,
            const std::function<TestHost::Options()>& options,
            const std::function<void()>& before_each) {
  Script script = Script::parse(script_text);
  auto make_host = [&] {
    if (before_each) before_each();
    return std::make_unique<TestHost>(options ? options() : TestHost::Options{});
  };

  {
    auto host = make_host();
    host->open(factory);
    for (const Script::Step& step : script.steps) {
      host->feed(step.client);
      CHECK_MESSAGE(host->take_output() == step.server, "after client input: " << step.client);
    }
  }

  const std::string input = script.all_client();
  const std::string expected = script.all_server();
  auto run_chunks = [&](const std::vector<std::string_view>& chunks, std::string_view label) {
    auto host = make_host();
    host->open(factory);
    for (std::string_view chunk : chunks) host->feed(chunk);
    CHECK_MESSAGE(host->output() == expected, label);
  };
  for (size_t split = 1; split < input.size(); ++split) {
    std::string_view in(input);
    run_chunks({in.substr(0, split), in.substr(split)}, "split at byte " + std::to_string(split));
  }
  std::vector<std::string_view> bytes;
  for (size_t i = 0; i < input.size(); ++i) bytes.push_back(std::string_view(input).substr(i, 1));
  run_chunks(bytes, "one byte at a time");
}

}  // namespace chapar::test
