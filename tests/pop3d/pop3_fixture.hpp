// SPDX-License-Identifier: AGPL-3.0-or-later
// A real store with a domain, accounts and a few messages, copied fresh for every run of a
// scripted conversation, and the factory that builds POP3 sessions on it.
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/auth/throttle.hpp"
#include "common/config.hpp"
#include "common/log.hpp"
#include "libmailstore/store.hpp"
#include "pop3d/session.hpp"
#include "tests/support/session_host.hpp"
#include "tests/support/template_store.hpp"
#include "tests/support/test_dir.hpp"

namespace chapar::pop3::test {

inline constexpr const char* kPassword = "correct horse";
inline constexpr const char* kAlice = "alice@example.org";  // holds kMessages
inline constexpr const char* kBob = "bob@example.org";      // an empty maildrop
inline constexpr const char* kCarol = "carol@example.org";  // disabled

// Alice's INBOX, in delivery order.
inline const std::vector<std::string> kMessages = {
    "From: a@example.net\r\nTo: alice@example.org\r\nSubject: one\r\n\r\nHello Alice.\r\n",
    "From: a@example.net\r\nTo: alice@example.org\r\nSubject: dots\r\n\r\n"
    ".leading dot\r\n..two dots\r\n.\r\nafter a lone dot\r\n",
    "From: a@example.net\r\nTo: alice@example.org\r\nSubject: three\r\n\r\n"
    "line 1\r\nline 2\r\nline 3\r\n",
};

struct Pop3Fixture {
  chapar::test::TestDir dir;
  config::Config config;
  std::unique_ptr<auth::LoginThrottle> throttle;
  std::unique_ptr<store::Store> store;

  Pop3Fixture() {
    log::set_level(log::Level::kWarning);  // a line per login and logout is noise here
    config.server.hostname = "mail.example.org";
    config.pop3d.max_line_length = 255;
    config.auth.failure_delay = std::chrono::milliseconds(100);
    config.auth.max_failure_delay = std::chrono::milliseconds(400);
    make_template();
    reset();
  }

  ~Pop3Fixture() {
    store.reset();
    throttle.reset();
  }

  std::filesystem::path template_dir() const { return dir / "template"; }
  std::filesystem::path data_dir() const { return dir / "data"; }

  void make_template() {
    Status made = chapar::test::make_template(template_dir(), [](store::Store& s) -> Status {
      auto hash = chapar::test::quick_hash(kPassword);
      REQUIRE(hash.has_value());
      REQUIRE(s.add_domain_sync("example.org").has_value());
      auto alice = s.add_account_sync(kAlice, *hash);
      REQUIRE(alice.has_value());
      REQUIRE(s.add_account_sync(kBob, *hash).has_value());
      REQUIRE(s.add_account_sync(kCarol, *hash).has_value());
      REQUIRE(s.set_disabled_sync(kCarol, true).has_value());
      for (const std::string& message : kMessages) deliver(s, *alice, message);
      return {};
    });
    REQUIRE_MESSAGE(made.has_value(), (made ? "" : made.error().message));
  }

  // A fresh copy of the template store, so that every run of a script sees the same state.
  void reset() {
    store.reset();
    throttle.reset();
    auto copy = chapar::test::open_copy(template_dir(), data_dir());
    REQUIRE_MESSAGE(copy.has_value(), (copy ? "" : copy.error().message));
    store = std::move(*copy);
    open_throttle();
  }

  static void deliver(store::Store& s, store::AccountId account, std::string content) {
    Status delivered = chapar::test::deliver(s, account, std::move(content));
    REQUIRE_MESSAGE(delivered.has_value(), (delivered ? "" : delivered.error().message));
  }

  // Opens the store in data_dir() again, as a restarted daemon would.
  void reopen() {
    store.reset();
    throttle.reset();
    auto opened = store::Store::open(store::StoreOptions{data_dir(), false});
    REQUIRE_MESSAGE(opened.has_value(), (opened ? "" : opened.error().message));
    store = std::move(*opened);
    open_throttle();
  }

  void open_throttle() {
    auto opened = auth::LoginThrottle::open(data_dir(), config.auth);
    REQUIRE(opened.has_value());
    throttle = std::move(*opened);
  }

  net::SessionFactory factory() {
    return [this](net::SessionHost& host) -> std::unique_ptr<net::ProtocolSession> {
      return std::make_unique<Session>(host, Services{config, *store, *throttle});
    };
  }

  // Replays a script (tests/support/session_host.hpp) whole, split at every byte and a byte
  // at a time; on a fresh store for every run when the script changes it.
  void replay(std::string_view script, chapar::test::TestHost::Options options,
              bool fresh_store = false) {
    std::function<void()> before_each;
    if (fresh_store) before_each = [this] { reset(); };
    chapar::test::replay(
        factory(), script, [options] { return options; }, before_each);
  }

  store::AccountId account_id(const std::string& address) {
    auto account = store->find_account(address);
    REQUIRE_MESSAGE(account.has_value(), address);
    return account->id;
  }

  store::Mailbox inbox(const std::string& address) {
    auto mailbox = store->find_mailbox(account_id(address), "INBOX");
    REQUIRE(mailbox.has_value());
    return *mailbox;
  }

  // The messages in the INBOX of `address`, oldest first, as stored.
  std::vector<std::string> messages(const std::string& address) {
    auto entries = store->entries(inbox(address).id);
    REQUIRE(entries.has_value());
    std::vector<std::string> out;
    for (const store::Entry& entry : *entries) {
      auto content = store->read(entry.message, 0, entry.size);
      REQUIRE(content.has_value());
      out.push_back(*content);
    }
    return out;
  }

  // The UIDL value of the n-th message of alice's INBOX as the template holds it.
  std::string unique_id(size_t n) {
    return fmt::format("{:08x}.{:08x}", inbox(kAlice).uidvalidity, static_cast<uint32_t>(n));
  }
};

// Where a connection comes from and how its listener does TLS.
inline chapar::test::TestHost::Options connection(bool loopback,
                                                  net::TlsMode tls = net::TlsMode::kStartTls) {
  chapar::test::TestHost::Options options;
  options.listener = net::ListenerInfo{tls == net::TlsMode::kImplicit ? "pop3s" : "pop3", tls};
  options.peer = loopback ? net::PeerInfo{"127.0.0.1", 40000, true}
                          : net::PeerInfo{"192.0.2.10", 40000, false};
  options.implicit_tls = tls == net::TlsMode::kImplicit;
  return options;
}

inline chapar::test::TestHost::Options loopback() {
  return connection(true);
}
inline chapar::test::TestHost::Options remote() {
  return connection(false);
}

// Script lines that log alice in with USER/PASS.
inline constexpr std::string_view kAliceLogin =
    "C: USER alice@example.org\n"
    "S: +OK\n"
    "C: PASS correct horse\n"
    "S: +OK Logged in.\n";

}  // namespace chapar::pop3::test
