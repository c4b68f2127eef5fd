// SPDX-License-Identifier: AGPL-3.0-or-later
// Deliveries per second into the store: messages of 4 KB (or --size octets), each to one
// local INBOX, with synchronous=FULL. Each producer is a thread with its own Store that waits
// for every delivery to be durable before it makes the next, as an SMTP session waits before
// its 250.
//
//   store_bench [--dir DIR] [--messages N] [--producers P] [--size OCTETS]
//               [--checkpoint-pages PAGES] [--warmup N]
//
// --warmup delivers N messages into each fresh store before the clock starts, so that the
// WAL has reached the length it keeps between checkpoints, as in a store that has been in
// use: until then every commit also makes the WAL file longer.
//
// Runs three cases on fresh stores under DIR (default: a new directory in /tmp):
//   1 producer                                   group commit (nothing to group)
//   P producers (default 50)                     group commit
//   P producers, one transaction per message     the baseline without group commit
// DIR must not hold stores from an earlier run; the case directories are removed after.
#include <stdlib.h>

#include <fmt/format.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "libmailstore/store.hpp"

namespace {

using chapar::store::AccountId;
using chapar::store::Delivery;
using chapar::store::PreparedMessage;
using chapar::store::Spool;
using chapar::store::Store;
using chapar::store::StoreOptions;

struct Settings {
  std::filesystem::path dir;
  int messages = 2000;  // per case
  int producers = 50;
  size_t size = 4096;  // octets per message
  int checkpoint_pages = StoreOptions{}.checkpoint_pages;
  int warmup = 0;        // deliveries before the clock starts
  bool own_dir = false;  // made here, so removed at the end
};

struct Outcome {
  double seconds = 0;
  int delivered = 0;
  uint64_t commits = 0;
};

std::string message_text(int producer, int n, size_t size) {
  std::string text = fmt::format(
      "From: producer{}@example.net\r\nTo: user{}@example.org\r\nSubject: message {}\r\n"
      "Message-ID: <{}.{}@bench.example>\r\n\r\n",
      producer, producer, n, producer, n);
  while (text.size() < size) {
    text += "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\r\n";
  }
  text.resize(size - 2);
  text += "\r\n";
  return text;
}

[[noreturn]] void die(const std::string& what) {
  fmt::print(stderr, "store_bench: {}\n", what);
  std::exit(1);
}

Outcome run_case(const Settings& settings, const std::filesystem::path& data_dir, int producers,
                 size_t max_batch) {
  int messages = settings.messages;
  StoreOptions options;
  options.data_dir = data_dir;
  options.create = true;
  options.max_batch = max_batch;
  options.checkpoint_pages = settings.checkpoint_pages;
  auto opened = Store::open(options);
  if (!opened) die(opened.error().message);
  auto& store = *opened;
  if (!store->add_domain_sync("example.org")) die("add domain");
  std::vector<AccountId> accounts;
  for (int i = 0; i < producers; ++i) {
    auto id = store->add_account_sync(fmt::format("user{}@example.org", i), "x");
    if (!id) die(id.error().message);
    accounts.push_back(*id);
  }

  // Content is built before the clock starts: the store is what is measured.
  std::vector<std::vector<PreparedMessage>> work(static_cast<size_t>(producers));
  for (int n = 0; n < messages; ++n) {
    int p = n % producers;
    PreparedMessage message;
    message.content = Spool::from_string(message_text(p, n, settings.size));
    message.size = message.content->size();
    work[static_cast<size_t>(p)].push_back(std::move(message));
  }
  for (int n = 0; n < settings.warmup; ++n) {
    Delivery delivery;
    delivery.message.content = Spool::from_string(message_text(0, n, settings.size));
    delivery.message.size = delivery.message.content->size();
    delivery.sender = "bench@example.net";
    delivery.local = {accounts[0]};
    if (auto receipt = store->deliver_sync(std::move(delivery)); !receipt) {
      die(receipt.error().message);
    }
  }
  std::vector<std::unique_ptr<Store>> stores;
  for (int p = 0; p < producers; ++p) {
    auto other = store->open_another();
    if (!other) die(other.error().message);
    stores.push_back(std::move(*other));
  }

  uint64_t commits_before = store->writer_stats().commits;
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  std::vector<int> delivered(static_cast<size_t>(producers));
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      auto index = static_cast<size_t>(p);
      for (auto& message : work[index]) {
        Delivery delivery;
        delivery.message = std::move(message);
        delivery.sender = "bench@example.net";
        delivery.local = {accounts[index]};
        auto receipt = stores[index]->deliver_sync(std::move(delivery));
        if (!receipt) die(receipt.error().message);
        ++delivered[index];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  auto elapsed = std::chrono::steady_clock::now() - start;

  Outcome outcome;
  outcome.seconds = std::chrono::duration<double>(elapsed).count();
  for (int d : delivered) outcome.delivered += d;
  outcome.commits = store->writer_stats().commits - commits_before;
  return outcome;
}

void report(const char* name, const Outcome& outcome) {
  double rate = outcome.delivered / outcome.seconds;
  fmt::print("{:<44} {:>6} deliveries {:>8.2f} s {:>9.0f}/s {:>6} commits ({:.1f} per commit)\n",
             name, outcome.delivered, outcome.seconds, rate, outcome.commits,
             static_cast<double>(outcome.delivered) / static_cast<double>(outcome.commits));
}

Settings parse(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) {
      die("usage: store_bench [--dir DIR] [--messages N] [--producers P] [--size OCTETS] "
          "[--checkpoint-pages PAGES] [--warmup N]");
    }
    std::string value = argv[++i];
    if (arg == "--dir") {
      settings.dir = value;
    } else if (arg == "--messages") {
      settings.messages = std::max(1, std::atoi(value.c_str()));
    } else if (arg == "--producers") {
      settings.producers = std::max(1, std::atoi(value.c_str()));
    } else if (arg == "--size") {
      settings.size = std::max<size_t>(512, std::strtoull(value.c_str(), nullptr, 10));
    } else if (arg == "--checkpoint-pages") {
      settings.checkpoint_pages = std::max(1, std::atoi(value.c_str()));
    } else if (arg == "--warmup") {
      settings.warmup = std::max(0, std::atoi(value.c_str()));
    } else {
      die("unknown option " + arg);
    }
  }
  if (settings.dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "store-bench-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) die("mkdtemp failed");
    settings.dir = pattern;
    settings.own_dir = true;
  }
  return settings;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings = parse(argc, argv);
  fmt::print(
      "store_bench: {} messages of {} octets per case after {} unmeasured, synchronous=FULL, "
      "checkpoint at {} WAL pages, in {}\n",
      settings.messages, settings.size, settings.warmup, settings.checkpoint_pages,
      settings.dir.string());

  Outcome single = run_case(settings, settings.dir / "single", 1, 1024);
  report("1 producer, group commit", single);
  Outcome grouped = run_case(settings, settings.dir / "grouped", settings.producers, 1024);
  report(fmt::format("{} producers, group commit", settings.producers).c_str(), grouped);
  Outcome baseline = run_case(settings, settings.dir / "baseline", settings.producers, 1);
  report(fmt::format("{} producers, one transaction per message", settings.producers).c_str(),
         baseline);

  double speedup = (grouped.delivered / grouped.seconds) / (baseline.delivered / baseline.seconds);
  fmt::print("group commit with {} producers: {:.1f}x the one-transaction-per-message rate\n",
             settings.producers, speedup);
  std::error_code ignored;
  for (const char* name : {"single", "grouped", "baseline"}) {
    std::filesystem::remove_all(settings.dir / name, ignored);
  }
  if (settings.own_dir) std::filesystem::remove(settings.dir, ignored);
  return 0;
}
