// SPDX-License-Identifier: AGPL-3.0-or-later
// A real store in a fresh temporary directory, and small helpers for the store tests.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "libmailstore/store.hpp"
#include "tests/support/test_dir.hpp"

// Failed checks on a Result show its error.
namespace doctest {
template <typename T>
struct StringMaker<chapar::Result<T>> {
  static String convert(const chapar::Result<T>& result) {
    if (result) return "ok";
    return String(("error: " + result.error().message).c_str());
  }
};
}  // namespace doctest

namespace chapar::store::test {

inline std::unique_ptr<Store> open_store(const std::filesystem::path& data_dir) {
  StoreOptions options;
  options.data_dir = data_dir;
  options.create = true;
  auto store = Store::open(options);
  REQUIRE_MESSAGE(store.has_value(), (store ? "" : store.error().message));
  return std::move(*store);
}

// Content as the store keeps it; the structure is left empty (these tests do not read it).
inline PreparedMessage make_message(std::string content) {
  PreparedMessage message;
  message.size = content.size();
  message.content = Spool::from_string(std::move(content));
  return message;
}

inline std::string sample_body(const std::string& subject, size_t lines = 3) {
  std::string text = "From: a@example.net\r\nTo: b@example.org\r\nSubject: " + subject + "\r\n\r\n";
  for (size_t i = 0; i < lines; ++i) text += "line " + std::to_string(i) + "\r\n";
  return text;
}

// Waits for an asynchronous store operation.
template <typename T>
class Waiter {
 public:
  Completion<T> completion() {
    return [this](Result<T> result) { promise_.set_value(std::move(result)); };
  }
  Result<T> get() { return promise_.get_future().get(); }

 private:
  std::promise<Result<T>> promise_;
};

// Counts completions from the writer thread; wait() blocks until `n` arrived or a generous
// deadline passed (a hang becomes a failure, never a timing assertion).
class Countdown {
 public:
  void arrive() {
    std::lock_guard lock(mutex_);
    ++count_;
    changed_.notify_all();
  }
  bool wait(int n) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, std::chrono::seconds(120), [&] { return count_ >= n; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int count_ = 0;
};

struct StoreFixture {
  chapar::test::TestDir dir;
  std::unique_ptr<Store> store = open_store(dir / "data");

  AccountId add_account(const std::string& address, uint64_t quota = 0) {
    auto parts = address.substr(address.find('@') + 1);
    if (!*store->is_local_domain(parts)) REQUIRE(store->add_domain_sync(parts));
    auto id = store->add_account_sync(address, "$y$hash", quota);
    REQUIRE_MESSAGE(id.has_value(), (id ? "" : id.error().message));
    return *id;
  }

  MailboxId mailbox_id(AccountId account, const std::string& name) {
    auto mailbox = store->find_mailbox(account, name);
    REQUIRE(mailbox);
    return mailbox->id;
  }

  Result<DeliveryReceipt> deliver(std::vector<AccountId> local, const std::string& body) {
    Delivery delivery;
    delivery.message = make_message(body);
    delivery.sender = "a@example.net";
    delivery.local = std::move(local);
    return store->deliver_sync(std::move(delivery));
  }

  std::vector<Uid> append(MailboxId mailbox, std::vector<std::string> bodies, uint32_t flags = 0) {
    std::vector<AppendRequest> requests;
    for (auto& body : bodies) {
      AppendRequest request;
      request.mailbox = mailbox;
      request.message = make_message(std::move(body));
      request.flags = flags;
      requests.push_back(std::move(request));
    }
    auto result = store->append_sync(std::move(requests));
    REQUIRE_MESSAGE(result.has_value(), (result ? "" : result.error().message));
    return result->uids;
  }
};

}  // namespace chapar::store::test
