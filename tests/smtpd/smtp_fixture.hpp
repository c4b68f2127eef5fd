// SPDX-License-Identifier: AGPL-3.0-or-later
// A real store with a domain and a few accounts, copied fresh for every run of a scripted
// conversation, and the factory that builds SMTP sessions on it.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/auth/throttle.hpp"
#include "common/config.hpp"
#include "libmailstore/login.hpp"
#include "libmailstore/store.hpp"
#include "smtpd/session.hpp"
#include "tests/support/session_host.hpp"
#include "tests/support/template_store.hpp"
#include "tests/support/test_dir.hpp"

namespace chapar::smtp::test {

inline constexpr const char* kPassword = "correct horse";

// The accounts of the template store.
inline constexpr const char* kAlice = "alice@example.org";
inline constexpr const char* kBob = "bob@example.org";
inline constexpr const char* kCarol = "carol@example.org";       // quota: 2000 octets
inline constexpr const char* kJorg = "j\xC3\xB6rg@example.org";  // "jörg", UTF-8

struct SmtpFixture {
  chapar::test::TestDir dir;
  config::Config config;
  std::unique_ptr<auth::LoginThrottle> throttle;
  std::unique_ptr<store::Store> store;

  SmtpFixture() {
    config.server.hostname = "mx.example.org";
    config.smtpd.max_message_size = 10000;
    config.smtpd.max_recipients = 3;
    config.smtpd.max_messages_per_connection = 3;
    config.smtpd.max_errors = 10;
    config.auth.failure_delay = std::chrono::milliseconds(100);
    config.auth.max_failure_delay = std::chrono::milliseconds(400);
    make_template();
    // Failed logins are remembered apart from the store, for the whole test.
    auto opened_throttle = auth::LoginThrottle::open(dir / "throttle", config.auth);
    REQUIRE(opened_throttle.has_value());
    throttle = std::move(*opened_throttle);
    reset();
  }

  ~SmtpFixture() { store.reset(); }

  std::filesystem::path template_dir() const { return dir / "template"; }
  std::filesystem::path data_dir() const { return dir / ("data-" + std::to_string(runs)); }
  size_t runs = 0;

  void make_template() {
    Status made = chapar::test::make_template(template_dir(), [](store::Store& s) -> Status {
      auto hash = chapar::test::quick_hash(kPassword);
      REQUIRE(hash.has_value());
      REQUIRE(s.add_domain_sync("example.org").has_value());
      REQUIRE(s.add_domain_sync("mx.example.org").has_value());
      REQUIRE(s.add_account_sync(kAlice, *hash).has_value());
      REQUIRE(s.add_account_sync(kBob, *hash).has_value());
      REQUIRE(s.add_account_sync(kCarol, *hash, 2000).has_value());
      REQUIRE(s.add_account_sync(kJorg, *hash).has_value());
      REQUIRE(s.add_account_sync("postmaster@mx.example.org", *hash).has_value());
      REQUIRE(s.add_alias_sync("sales@example.org", kBob));
      REQUIRE(s.add_alias_sync("info@example.org", kBob));
      return {};
    });
    REQUIRE_MESSAGE(made.has_value(), (made ? "" : made.error().message));
  }

  // A fresh copy of the template store, so that every run of a script sees the same state.
  // Each run gets its own directory: removing the last one would cost more than the run.
  void reset() {
    store.reset();
    ++runs;
    auto copy = chapar::test::open_copy(template_dir(), data_dir());
    REQUIRE_MESSAGE(copy.has_value(), (copy ? "" : copy.error().message));
    store = std::move(*copy);
  }

  net::SessionFactory factory() {
    return [this](net::SessionHost& host) -> std::unique_ptr<net::ProtocolSession> {
      return std::make_unique<Session>(host, Services{config, *store, *throttle});
    };
  }

  // Replays a script (tests/support/session_host.hpp), on a fresh store for every run when
  // the script changes it.
  void replay(std::string_view script, chapar::test::TestHost::Options options,
              bool fresh_store = true) {
    std::function<void()> before_each;
    if (fresh_store) before_each = [this] { reset(); };
    chapar::test::replay(
        factory(), script, [options] { return options; }, before_each);
  }

  // Plays a script step by step on one session: for conversations with STARTTLS, whose
  // handshake divides the client's input by nature.
  void play(std::string_view script_text, chapar::test::TestHost::Options options) {
    chapar::test::Script script = chapar::test::Script::parse(script_text);
    chapar::test::TestHost host(options);
    host.open(factory());
    for (const chapar::test::Script::Step& step : script.steps) {
      host.feed(step.client);
      CHECK_MESSAGE(host.take_output() == step.server, "after client input: " << step.client);
    }
  }

  // One conversation on the current store: the server's answer to `input` (after the
  // greeting).
  std::string converse(std::string_view input, chapar::test::TestHost::Options options) {
    chapar::test::TestHost host(options);
    host.open(factory());
    host.take_output();
    host.feed(input);
    return host.take_output();
  }

  // Runs raw client input (for what a script cannot hold, such as bare LFs) against fresh
  // sessions: whole, split in two at every byte, and a byte at a time. The output must be
  // the same every time; it is returned. The store is the one of the last run.
  std::string replay_raw(std::string_view input, chapar::test::TestHost::Options options,
                         bool fresh_store = true) {
    auto run = [&](const std::vector<std::string_view>& chunks) {
      if (fresh_store) reset();
      chapar::test::TestHost host(options);
      host.open(factory());
      for (std::string_view chunk : chunks) host.feed(chunk);
      return host.output();
    };
    std::string whole = run({input});
    for (size_t cut = 1; cut < input.size(); ++cut) {
      CHECK_MESSAGE(run({input.substr(0, cut), input.substr(cut)}) == whole,
                    "split at byte " << cut);
    }
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < input.size(); ++i) bytes.push_back(input.substr(i, 1));
    CHECK_MESSAGE(run(bytes) == whole, "one byte at a time");
    return whole;
  }

  // The messages in the INBOX of `address`, oldest first, as stored.
  std::vector<std::string> inbox(const std::string& address) {
    auto account = store->find_account(address);
    REQUIRE_MESSAGE(account.has_value(), address);
    auto mailbox = store->find_mailbox(account->id, "INBOX");
    REQUIRE(mailbox.has_value());
    auto entries = store->entries(mailbox->id);
    REQUIRE(entries.has_value());
    std::vector<std::string> out;
    for (const store::Entry& entry : *entries) {
      auto content = store->read(entry.message, 0, entry.size);
      REQUIRE(content.has_value());
      out.push_back(*content);
    }
    return out;
  }
};

// Where a connection comes from and which listener took it.
inline chapar::test::TestHost::Options connection(std::string listener,
                                                  net::TlsMode tls = net::TlsMode::kStartTls,
                                                  bool loopback = false,
                                                  bool implicit_tls = false) {
  chapar::test::TestHost::Options options;
  options.listener = net::ListenerInfo{std::move(listener), tls};
  options.peer = loopback ? net::PeerInfo{"127.0.0.1", 40000, true}
                          : net::PeerInfo{"192.0.2.10", 40000, false};
  options.implicit_tls = implicit_tls;
  return options;
}

// Everything after the trace header fields (Return-Path and the Received field we added,
// whose date is the last line, in UTC).
inline std::string without_trace(const std::string& message) {
  REQUIRE(message.rfind("Return-Path: <", 0) == 0);
  size_t end = message.find(" +0000\r\n");
  REQUIRE(end != std::string::npos);
  return message.substr(end + 8);
}

// The trace header fields of a message, up to the end of the Received field.
inline std::string trace_of(const std::string& message) {
  return message.substr(0, message.size() - without_trace(message).size());
}

// What the server answers to EHLO, as script lines.
struct Capabilities {
  uint64_t size = 10000;
  bool starttls = false;
  bool auth = false;
  bool requiretls = false;
};

inline std::string ehlo_reply(Capabilities caps) {
  std::string out =
      "S: 250-mx.example.org\n"
      "S: 250-PIPELINING\n"
      "S: 250-SIZE " +
      std::to_string(caps.size) +
      "\n"
      "S: 250-LIMITS RCPTMAX=3 MAILMAX=3\n";
  if (caps.starttls) out += "S: 250-STARTTLS\n";
  if (caps.auth) out += "S: 250-AUTH PLAIN LOGIN\n";
  out +=
      "S: 250-ENHANCEDSTATUSCODES\n"
      "S: 250-8BITMIME\n"
      "S: 250-BINARYMIME\n"
      "S: 250-CHUNKING\n"
      "S: 250-DSN\n";
  out += caps.requiretls ? "S: 250-SMTPUTF8\nS: 250 REQUIRETLS\n" : "S: 250 SMTPUTF8\n";
  return out;
}

inline constexpr const char* kGreeting = "S: 220 mx.example.org ESMTP Chapar\n";

}  // namespace chapar::smtp::test
