// SPDX-License-Identifier: AGPL-3.0-or-later
#include <doctest/doctest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "libmailstore/notify.hpp"
#include "tests/store/store_fixture.hpp"

namespace chapar::store {
namespace {

using test::make_message;
using test::sample_body;
using test::StoreFixture;

// Drains the listener until `mailbox` has been announced at `modseq` or later, or the
// deadline passes.
bool wait_for(Store::ChangeListener& listener, MailboxId mailbox, ModSeq modseq) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{listener.fd(), POLLIN, 0};
    poll(&pfd, 1, 100);
    for (const auto& [id, seen] : listener.drain_changes()) {
      if (id == mailbox && seen >= modseq) return true;
    }
  }
  return false;
}

TEST_CASE("store: the maildrop lock is exclusive and released with its holder") {
  StoreFixture f;
  AccountId a = f.add_account("a@example.org");
  AccountId b = f.add_account("b@example.org");
  {
    auto lock = f.store->lock_maildrop(a);
    REQUIRE(lock);
    auto other = f.store->open_another();
    REQUIRE(other);
    auto busy = (*other)->lock_maildrop(a);
    REQUIRE_FALSE(busy);
    CHECK(busy.error().code == Errc::kBusy);
    CHECK(f.store->lock_maildrop(b));  // another account is free
    MaildropLock moved = std::move(*lock);
    CHECK(f.store->lock_maildrop(a).error().code == Errc::kBusy);
  }
  CHECK(f.store->lock_maildrop(a));

  // Held by another process that dies: released with it.
  int ready[2];
  REQUIRE(pipe(ready) == 0);
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto store = test::open_store(f.dir / "data");
    auto lock = store->lock_maildrop(a);
    char c = lock ? '1' : '0';
    (void)!write(ready[1], &c, 1);
    pause();
    _exit(0);
  }
  close(ready[1]);
  char c = 0;
  REQUIRE(read(ready[0], &c, 1) == 1);
  close(ready[0]);
  REQUIRE(c == '1');
  CHECK(f.store->lock_maildrop(a).error().code == Errc::kBusy);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  CHECK(f.store->lock_maildrop(a));
}

TEST_CASE("store: a change listener hears commits made by another thread") {
  StoreFixture f;
  AccountId a = f.add_account("a@example.org");
  MailboxId inbox = f.mailbox_id(a, "INBOX");
  auto listener = f.store->listen_for_changes();
  REQUIRE(listener);
  CHECK(std::filesystem::exists(f.dir / "data" / "run"));

  std::thread other([&] {
    auto store = f.store->open_another();
    REQUIRE(store);
    Delivery delivery;
    delivery.message = make_message(sample_body("hello"));
    delivery.local = {a};
    REQUIRE((*store)->deliver_sync(std::move(delivery)));
  });
  other.join();
  ModSeq modseq = f.store->mailbox(inbox)->highest_modseq;
  CHECK(wait_for(**listener, inbox, modseq));

  // A second store opened on its own (as another daemon would) is heard too.
  auto separate = test::open_store(f.dir / "data");
  auto uids = separate->append_sync([&] {
    std::vector<AppendRequest> requests(1);
    requests[0].mailbox = inbox;
    requests[0].message = make_message(sample_body("appended"));
    return requests;
  }());
  REQUIRE(uids);
  CHECK(wait_for(**listener, inbox, f.store->mailbox(inbox)->highest_modseq));

  // Queued remote recipients wake the queue runner.
  Delivery remote;
  remote.message = make_message(sample_body("out"));
  remote.remote = {{"x@example.net", "", ""}};
  auto queued = f.store->deliver_sync(std::move(remote));
  REQUIRE(queued);
  CHECK(wait_for(**listener, kQueueChanges, static_cast<ModSeq>(*queued->queued)));

  // The listener's socket goes with it.
  auto path_count = [&] {
    size_t n = 0;
    for (const auto& item : std::filesystem::directory_iterator(f.dir / "data" / "run")) {
      n += item.path().extension() == ".sock";
    }
    return n;
  };
  CHECK(path_count() == 1);
  listener->reset();
  CHECK(path_count() == 0);
}

TEST_CASE("store: sockets of listeners that died are removed") {
  StoreFixture f;
  AccountId a = f.add_account("a@example.org");
  // A socket file nobody is bound to, as a crashed daemon leaves behind.
  auto stale = f.dir / "data" / "run" / "1-deadbeef.sock";
  int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, stale.c_str(), sizeof(address.sun_path) - 1);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  close(fd);
  REQUIRE(std::filesystem::exists(stale));
  REQUIRE(f.deliver({a}, sample_body("x")));
  // The writer announces a commit before it starts the next one: once a second delivery
  // has completed, the first announcement has been sent.
  REQUIRE(f.deliver({a}, sample_body("y")));
  CHECK_FALSE(std::filesystem::exists(stale));
}

TEST_CASE("store: announcements parse leniently") {
  auto parsed = parse_announcement("5 10\n7 3\nbad\n8 x\n\n9 1");
  REQUIRE(parsed.size() == 3);
  CHECK(parsed[0] == std::pair<MailboxId, ModSeq>{5, 10});
  CHECK(parsed[1] == std::pair<MailboxId, ModSeq>{7, 3});
  CHECK(parsed[2] == std::pair<MailboxId, ModSeq>{9, 1});
}

TEST_CASE("store: concurrent deliveries share commits (group commit)") {
  StoreFixture f;
  std::vector<AccountId> accounts;
  for (int i = 0; i < 4; ++i) accounts.push_back(f.add_account(fmt::format("u{}@example.org", i)));
  WriterStats before = f.store->writer_stats();

  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::atomic<int> ok{0};
  test::Countdown done;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto store = f.store->open_another();
      REQUIRE(store);
      for (int i = 0; i < kPerThread; ++i) {
        Delivery delivery;
        delivery.message = make_message(sample_body(fmt::format("t{} m{}", t, i)));
        delivery.local = {accounts[static_cast<size_t>((t + i) % 4)]};
        (*store)->deliver(std::move(delivery), [&](Result<DeliveryReceipt> r) {
          if (r) ok++;
          done.arrive();
        });
      }
    });
  }
  for (auto& thread : threads) thread.join();
  REQUIRE(done.wait(kThreads * kPerThread));
  CHECK(ok.load() == kThreads * kPerThread);
  WriterStats after = f.store->writer_stats();
  CHECK(after.requests - before.requests == kThreads * kPerThread);
  CHECK(after.commits - before.commits < after.requests - before.requests);
  MESSAGE("requests=" << after.requests - before.requests
                      << " commits=" << after.commits - before.commits);

  // Every delivery got its own UID, without gaps.
  size_t total = 0;
  for (AccountId account : accounts) {
    auto entries = f.store->entries(f.mailbox_id(account, "INBOX"));
    for (size_t i = 0; i < entries->size(); ++i) CHECK((*entries)[i].uid == i + 1);
    total += entries->size();
  }
  CHECK(total == kThreads * kPerThread);
  CHECK(f.store->stats()->messages == kThreads * kPerThread);
}

TEST_CASE("store: one failing request does not fail the others in its commit") {
  StoreFixture f;
  AccountId a = f.add_account("a@example.org");
  AccountId full = f.add_account("full@example.org", 10);
  std::atomic<int> ok{0}, quota{0};
  test::Countdown done;
  for (int i = 0; i < 50; ++i) {
    Delivery delivery;
    delivery.message = make_message(sample_body("m"));
    delivery.local = {i % 2 == 0 ? a : full};
    f.store->deliver(std::move(delivery), [&](Result<DeliveryReceipt> r) {
      if (r) ok++;
      if (!r && r.error().code == Errc::kQuotaExceeded) quota++;
      done.arrive();
    });
  }
  REQUIRE(done.wait(50));
  CHECK(ok.load() == 25);
  CHECK(quota.load() == 25);
  CHECK(f.store->entries(f.mailbox_id(a, "INBOX"))->size() == 25);
  CHECK(f.store->entries(f.mailbox_id(full, "INBOX"))->empty());
  CHECK(f.store->stats()->messages == 25);
}

}  // namespace
}  // namespace chapar::store
