// SPDX-License-Identifier: AGPL-3.0-or-later
#include "libmailstore/login.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <doctest/doctest.h>

#include "common/auth/password.hpp"
#include "tests/store/store_fixture.hpp"
#include "tests/support/session_host.hpp"

namespace chapar::store {
namespace {

using namespace std::chrono_literals;

// Collects what is written to stderr (the log) while it lives.
class StderrCapture {
 public:
  explicit StderrCapture(const std::filesystem::path& file) : file_(file) {
    fflush(stderr);
    saved_ = dup(STDERR_FILENO);
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    REQUIRE(fd >= 0);
    dup2(fd, STDERR_FILENO);
    ::close(fd);
  }
  ~StderrCapture() { restore(); }

  std::string text() {
    restore();
    std::ifstream in(file_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    fflush(stderr);
    dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    saved_ = -1;
  }

  std::filesystem::path file_;
  int saved_ = -1;
};

struct LoginFixture : test::StoreFixture {
  std::unique_ptr<auth::LoginThrottle> throttle;
  chapar::test::TestHost host{[] {
    chapar::test::TestHost::Options options;
    options.peer.address = "192.0.2.9";
    return options;
  }()};

  LoginFixture() {
    config::Auth settings;
    settings.failure_delay = 100ms;
    settings.max_failure_delay = 1000ms;
    auto t = auth::LoginThrottle::open(dir / "data", settings);
    REQUIRE_MESSAGE(t.has_value(), (t ? "" : t.error().message));
    throttle = std::move(*t);
    REQUIRE(store->add_domain_sync("example.org"));
    auto hash = auth::hash_password("correct horse");
    REQUIRE(hash.has_value());
    REQUIRE(store->add_account_sync("bob@example.org", *hash));
  }

  // Runs one login to its end.
  Result<Account> login(const std::string& user, const std::string& password) {
    Login login(*store, *throttle, host, "imap");
    std::optional<Result<Account>> answer;
    login.verify(user, password, [&](Result<Account> r) { answer = std::move(r); });
    CHECK_FALSE(answer.has_value());  // never before verify() returns
    host.drain();
    REQUIRE(answer.has_value());
    return std::move(*answer);
  }
};

TEST_CASE_FIXTURE(LoginFixture, "login: the right password gives the account") {
  auto account = login("bob@example.org", "correct horse");
  REQUIRE_MESSAGE(account.has_value(), account.error().message);
  CHECK(account->address() == "bob@example.org");
  CHECK(host.delays() == std::vector<std::chrono::milliseconds>{0ms});
  auto again = login("BOB@Example.ORG", "correct horse");
  REQUIRE(again.has_value());
}

TEST_CASE_FIXTURE(LoginFixture, "login: a wrong password is logged once and slows the address") {
  StderrCapture capture(dir / "stderr");
  auto first = login("bob@example.org", "wrong");
  REQUIRE_FALSE(first.has_value());
  CHECK(first.error().code == Errc::kPermissionDenied);
  auto second = login("bob@example.org", "wrong again");
  REQUIRE_FALSE(second.has_value());
  // Before checking and after failing: 0 then 100 ms, then 100 then 200 ms.
  CHECK(host.delays() == std::vector<std::chrono::milliseconds>{0ms, 100ms, 100ms, 200ms});
  // The next attempt waits even with the right password; success clears the record.
  auto third = login("bob@example.org", "correct horse");
  REQUIRE(third.has_value());
  CHECK(host.delays().back() == 200ms);
  CHECK(throttle->delay_for("192.0.2.9", "bob@example.org", host.now()) == 0ms);

  std::string log = capture.text();
  size_t lines = 0;
  for (size_t pos = 0; (pos = log.find("event=auth_failed", pos)) != std::string::npos; ++pos) {
    ++lines;
  }
  CHECK(lines == 2);
  CHECK(log.find("level=warning event=auth_failed conn=test ip=192.0.2.9 user=bob@example.org "
                 "proto=imap reason=bad_password\n") != std::string::npos);
  CHECK(log.find("wrong") == std::string::npos);  // never the password
}

TEST_CASE_FIXTURE(LoginFixture, "login: a password that matched a while ago is not hashed again") {
  REQUIRE(login("bob@example.org", "correct horse").has_value());
  CHECK(host.blocking_runs() == 1);
  REQUIRE(login("Bob@example.org", "correct horse").has_value());
  CHECK(host.blocking_runs() == 1);
  // A wrong password always takes the full hash, and is never remembered.
  REQUIRE_FALSE(login("bob@example.org", "correct horsf").has_value());
  CHECK(host.blocking_runs() == 2);
  // A new password: the old one no longer matches the stored hash.
  auto hash = auth::hash_password("battery staple");
  REQUIRE(hash.has_value());
  REQUIRE(store->set_password_sync("bob@example.org", *hash));
  REQUIRE_FALSE(login("bob@example.org", "correct horse").has_value());
  CHECK(host.blocking_runs() == 3);
  // Disabled accounts are refused whatever is remembered.
  REQUIRE(login("bob@example.org", "battery staple").has_value());
  REQUIRE(store->set_disabled_sync("bob@example.org", true));
  REQUIRE_FALSE(login("bob@example.org", "battery staple").has_value());
  CHECK(host.blocking_runs() == 4);
  // Past the lifetime the hash is checked again.
  REQUIRE(store->set_disabled_sync("bob@example.org", false));
  host.set_now(host.now() + 3601s);
  REQUIRE(login("bob@example.org", "battery staple").has_value());
  CHECK(host.blocking_runs() == 5);
}

TEST_CASE_FIXTURE(LoginFixture, "login: unknown users fail the same way") {
  StderrCapture capture(dir / "stderr");
  auto r = login("nobody@example.org", "correct horse");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::kPermissionDenied);
  auto bad = login("not an address", "x");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == Errc::kPermissionDenied);
  std::string log = capture.text();
  CHECK(log.find("user=nobody@example.org proto=imap reason=unknown_user") != std::string::npos);
  CHECK(log.find("user=\"not an address\"") != std::string::npos);
}

TEST_CASE_FIXTURE(LoginFixture, "login: a disabled account cannot log in") {
  REQUIRE(store->set_disabled_sync("bob@example.org", true));
  StderrCapture capture(dir / "stderr");
  auto r = login("bob@example.org", "correct horse");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().code == Errc::kPermissionDenied);
  CHECK(capture.text().find("reason=disabled") != std::string::npos);
}

TEST_CASE_FIXTURE(LoginFixture, "login: a bare user name means the only domain") {
  auto r = login("bob", "correct horse");
  REQUIRE_MESSAGE(r.has_value(), r.error().message);
  CHECK(r->address() == "bob@example.org");
  REQUIRE(store->add_domain_sync("example.net"));
  StderrCapture capture(dir / "stderr");
  auto ambiguous = login("bob", "correct horse");
  REQUIRE_FALSE(ambiguous.has_value());
  CHECK(ambiguous.error().code == Errc::kPermissionDenied);
}

TEST_CASE_FIXTURE(LoginFixture, "login: nothing is answered after the Login is gone") {
  bool called = false;
  {
    Login login(*store, *throttle, host, "pop3");
    login.verify("bob@example.org", "correct horse", [&](Result<Account>) { called = true; });
  }
  host.drain();
  CHECK_FALSE(called);
}

}  // namespace
}  // namespace chapar::store
