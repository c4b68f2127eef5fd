// SPDX-License-Identifier: AGPL-3.0-or-later
// Crash consistency: a process killed with SIGKILL in the middle of many concurrent
// deliveries leaves a store in which every delivery that reported success is present and
// intact. A child process delivers and writes the number of each acknowledged delivery to
// a pipe; the parent kills it after a given number of acknowledgements, reopens the store
// and checks every acknowledged delivery byte for byte. The same store goes through
// several crashes, so recovery after a crash is exercised too.
#include <doctest/doctest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "tests/store/store_fixture.hpp"

namespace chapar::store {
namespace {

constexpr int kDeliveriesPerChild = 1000;
constexpr int kThreads = 8;
constexpr int kInFlightPerThread = 4;
constexpr int kAccounts = 3;

std::string account_address(int i) {
  return "user" + std::to_string(i) + "@example.org";
}

// Deterministic content for delivery `n`, of varied size; some are large enough to be
// written into the database in chunks.
std::string body_for(int n) {
  size_t size = 200 + static_cast<size_t>(n) * 7919 % 12000;
  if (n % 97 == 0) size = 300 * 1024;
  std::string body = "Message-ID: <" + std::to_string(n) + "@crash.test>\r\nSubject: delivery " +
                     std::to_string(n) + "\r\n\r\n";
  while (body.size() < size) {
    body += "delivery " + std::to_string(n) + " offset " + std::to_string(body.size()) + "\r\n";
  }
  return body;
}

std::vector<int> accounts_for(int n) {
  if (n % 5 == 0) return {0, 1, 2};
  return {n % kAccounts};
}

// The child: kThreads threads each keep a few deliver() calls in flight; each completion
// that reports success writes "n message\n" to `ack_fd` (one write, below PIPE_BUF).
[[noreturn]] void run_child(const std::filesystem::path& data_dir, int ack_fd, int first) {
  StoreOptions options;
  options.data_dir = data_dir;
  auto opened = Store::open(options);
  if (!opened) _exit(2);
  std::unique_ptr<Store> store = std::move(*opened);
  std::vector<AccountId> ids;
  for (int i = 0; i < kAccounts; ++i) {
    auto account = store->find_account(account_address(i));
    if (!account) _exit(3);
    ids.push_back(account->id);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto mine = store->open_another();
      if (!mine) _exit(4);
      std::mutex mutex;
      std::condition_variable cv;
      int in_flight = 0;
      for (int i = t; i < kDeliveriesPerChild; i += kThreads) {
        int n = first + i;
        {
          std::unique_lock lock(mutex);
          cv.wait(lock, [&] { return in_flight < kInFlightPerThread; });
          ++in_flight;
        }
        Delivery delivery;
        delivery.message = test::make_message(body_for(n));
        delivery.sender = "crash@example.net";
        for (int a : accounts_for(n)) delivery.local.push_back(ids[static_cast<size_t>(a)]);
        (*mine)->deliver(std::move(delivery), [&, n](Result<DeliveryReceipt> receipt) {
          if (receipt) {
            std::string line = std::to_string(n) + " " + std::to_string(receipt->message) + "\n";
            if (write(ack_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
              _exit(5);
            }
          }
          std::lock_guard lock(mutex);
          --in_flight;
          cv.notify_all();
        });
      }
      std::unique_lock lock(mutex);
      cv.wait(lock, [&] { return in_flight == 0; });
    });
  }
  for (auto& thread : threads) thread.join();
  _exit(0);
}

// Reads acknowledgements until `stop_after` arrived (then kills the child) and then to the
// end of the pipe: an acknowledgement written before the kill is a promise too.
std::map<int, MessageId> collect(int fd, pid_t child, size_t stop_after) {
  std::map<int, MessageId> acks;
  std::string pending;
  bool killed = false;
  char buffer[4096];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    pending.append(buffer, static_cast<size_t>(n));
    for (size_t end = pending.find('\n'); end != std::string::npos; end = pending.find('\n')) {
      std::string line = pending.substr(0, end);
      pending.erase(0, end + 1);
      size_t space = line.find(' ');
      acks[std::stoi(line.substr(0, space))] = std::stoll(line.substr(space + 1));
    }
    if (!killed && acks.size() >= stop_after) {
      kill(child, SIGKILL);
      killed = true;
    }
  }
  if (!killed) kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  return acks;
}

std::string integrity_check(const std::filesystem::path& database) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(database.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr);
  std::string result = "no answer";
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result;
}

TEST_CASE("store crash: acknowledged deliveries survive SIGKILL") {
  chapar::test::TestDir dir;
  auto data_dir = dir / "data";
  {
    auto store = test::open_store(data_dir);
    REQUIRE(store->add_domain_sync("example.org"));
    for (int i = 0; i < kAccounts; ++i) {
      REQUIRE(store->add_account_sync(account_address(i), "$y$x"));
    }
  }

  std::map<int, MessageId> acknowledged;
  int first = 0;
  for (size_t kill_after : {50, 300, 700}) {
    CAPTURE(kill_after);
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      close(fds[0]);
      run_child(data_dir, fds[1], first);
    }
    close(fds[1]);
    auto acks = collect(fds[0], child, kill_after);
    close(fds[0]);
    CHECK(acks.size() >= kill_after);
    MESSAGE("killed after " << kill_after << " acknowledgements; " << acks.size()
                            << " arrived in all");
    acknowledged.insert(acks.begin(), acks.end());
    first += kDeliveriesPerChild;

    CHECK(integrity_check(data_dir / Store::kDatabaseName) == "ok");
    auto store = test::open_store(data_dir);
    std::vector<std::set<MessageId>> inbox(kAccounts);
    for (int i = 0; i < kAccounts; ++i) {
      auto account = store->find_account(account_address(i));
      REQUIRE(account);
      auto mailbox = store->find_mailbox(account->id, "INBOX");
      REQUIRE(mailbox);
      auto entries = store->entries(mailbox->id);
      REQUIRE(entries);
      for (size_t e = 0; e < entries->size(); ++e) {
        inbox[static_cast<size_t>(i)].insert((*entries)[e].message);
        if (e > 0) CHECK((*entries)[e].uid > (*entries)[e - 1].uid);
        CHECK((*entries)[e].uid < mailbox->uidnext);
      }
    }
    size_t intact = 0;
    for (const auto& delivery : acknowledged) {
      const int n = delivery.first;
      const MessageId message = delivery.second;
      std::string expected = body_for(n);
      auto stored = store->read(message, 0, expected.size() + 1);
      REQUIRE_MESSAGE(stored.has_value(), "delivery " << n << " lost");
      CHECK_MESSAGE(*stored == expected, "delivery " << n << " damaged");
      for (int a : accounts_for(n)) {
        CHECK_MESSAGE(inbox[static_cast<size_t>(a)].count(message) == 1,
                      "delivery " << n << " missing from " << account_address(a));
      }
      intact += *stored == expected;
    }
    CHECK(intact == acknowledged.size());
  }
}

}  // namespace
}  // namespace chapar::store
