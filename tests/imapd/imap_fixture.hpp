// SPDX-License-Identifier: AGPL-3.0-or-later
// A real store with a domain, two accounts and a few messages, copied fresh for every run of
// a scripted conversation, and the factory that builds IMAP sessions on it.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/auth/throttle.hpp"
#include "common/config.hpp"
#include "common/log.hpp"
#include "imapd/mailbox_watch.hpp"
#include "imapd/message_cache.hpp"
#include "imapd/session.hpp"
#include "libmailstore/store.hpp"
#include "tests/support/session_host.hpp"
#include "tests/support/template_store.hpp"
#include "tests/support/test_dir.hpp"

namespace chapar::imap::test {

inline constexpr const char* kPassword = "secret";
inline constexpr const char* kAlice = "alice@example.org";  // INBOX holds kMessages
inline constexpr const char* kBob = "bob@example.org";      // empty mailboxes

// The TestHost's clock, and the internal date of the template's messages.
inline constexpr int64_t kNow = chapar::test::kTemplateDate;

inline const std::vector<std::string> kMessages = {
    "From: Bob <bob@example.net>\r\nTo: alice@example.org\r\nSubject: one\r\n"
    "Date: Fri, 1 Mar 2024 10:00:00 +0000\r\nMessage-ID: <1@example.net>\r\n\r\nHello Alice.\r\n",
    "From: Carol <carol@example.net>\r\nTo: alice@example.org\r\nSubject: two\r\n"
    "Date: Sat, 2 Mar 2024 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
    "--b\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n"
    "--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    "AAEC\r\n--b--\r\n",
    "From: bob@example.net\r\nTo: alice@example.org\r\nSubject: three\r\n\r\nline 1\r\nline 2\r\n",
};

inline const std::string kGreeting =
    "S: * OK [CAPABILITY IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE STARTTLS "
    "AUTH=PLAIN AUTH=LOGIN] Chapar IMAP ready.\n";
inline const std::string kAuthCapabilities =
    "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE NAMESPACE UNSELECT UIDPLUS CHILDREN "
    "LIST-EXTENDED LIST-STATUS SPECIAL-USE MOVE CONDSTORE QRESYNC ESEARCH SEARCHRES BINARY "
    "MULTIAPPEND UTF8=ACCEPT STATUS=SIZE APPENDLIMIT=52428800";
// The greeting and a login as alice with tag "l".
inline const std::string kLogin = kGreeting + "C: l LOGIN alice@example.org secret\n" +
                                  "S: l OK [CAPABILITY " + kAuthCapabilities + "] Logged in.\n";

struct ImapFixture {
  chapar::test::TestDir dir;
  config::Config config;
  std::unique_ptr<auth::LoginThrottle> throttle;
  std::unique_ptr<store::Store> store;
  MailboxWatch watch;
  // Kept across the sessions on one store, as in the daemon. A fresh copy of the template
  // gets a fresh cache: the copy hands out the same UIDVALIDITY and UIDs again, which a
  // real store never does.
  std::unique_ptr<MessageCache> cache;

  ImapFixture() {
    log::set_level(log::Level::kWarning);
    config.server.hostname = "mail.example.org";
    config.auth.failure_delay = std::chrono::milliseconds(100);
    config.auth.max_failure_delay = std::chrono::milliseconds(400);
    make_template();
    reset();
  }

  ~ImapFixture() {
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
      for (const std::string& message : kMessages) deliver(s, *alice, message);
      return {};
    });
    REQUIRE_MESSAGE(made.has_value(), (made ? "" : made.error().message));
  }

  static void deliver(store::Store& s, store::AccountId account, std::string content) {
    Status delivered = chapar::test::deliver(s, account, std::move(content));
    REQUIRE_MESSAGE(delivered.has_value(), (delivered ? "" : delivered.error().message));
  }

  // Delivers to alice's INBOX through this fixture's store, as chapar-smtpd would.
  void deliver_to_alice(std::string content) {
    auto alice = store->find_account(kAlice);
    REQUIRE(alice.has_value());
    deliver(*store, alice->id, std::move(content));
  }

  store::Mailbox mailbox(const char* account, const char* name) {
    auto a = store->find_account(account);
    REQUIRE(a.has_value());
    auto m = store->find_mailbox(a->id, name);
    REQUIRE(m.has_value());
    return *m;
  }

  // A fresh copy of the template store, so that every run of a script sees the same state.
  void reset() {
    store.reset();
    throttle.reset();
    cache = std::make_unique<MessageCache>(1 << 20);
    auto opened = chapar::test::open_copy(template_dir(), data_dir());
    REQUIRE_MESSAGE(opened.has_value(), (opened ? "" : opened.error().message));
    store = std::move(*opened);
    auto opened_throttle = auth::LoginThrottle::open(data_dir(), config.auth);
    REQUIRE(opened_throttle.has_value());
    throttle = std::move(*opened_throttle);
  }

  net::SessionFactory factory() {
    return [this](net::SessionHost& host) {
      return std::make_unique<Session>(host,
                                       Services{config, *store, *throttle, watch, cache.get()});
    };
  }

  // Replays a script whole and split at every byte, each run on a fresh store; leaves a
  // fresh store behind.
  void replay(const std::string& script, chapar::test::TestHost::Options options = {}) {
    chapar::test::replay(
        factory(), script, [options] { return options; }, [this] { reset(); });
    reset();
  }

  // Plays a script once, step by step, on the current store.
  void converse(chapar::test::TestHost& host, const std::string& script) {
    chapar::test::Script parsed = chapar::test::Script::parse(script);
    for (const auto& step : parsed.steps) {
      host.feed(step.client);
      CHECK_MESSAGE(host.take_output() == step.server, "after client input: " << step.client);
    }
  }

  // A session on the current store, greeted; the greeting is taken from its output.
  std::unique_ptr<chapar::test::TestHost> open(chapar::test::TestHost::Options options = {}) {
    auto host = std::make_unique<chapar::test::TestHost>(options);
    host->open(factory());
    host->take_output();
    return host;
  }

  // Plays a script from a fresh session, step by step.
  void play(const std::string& script, chapar::test::TestHost::Options options = {}) {
    chapar::test::TestHost host(options);
    host.open(factory());
    converse(host, script);
  }
};

}  // namespace chapar::imap::test
