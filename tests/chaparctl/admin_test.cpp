// SPDX-License-Identifier: AGPL-3.0-or-later
// init and the administration commands against a real store in a temporary directory.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "chaparctl/exit_codes.hpp"
#include "common/auth/password.hpp"
#include "libmailstore/store.hpp"
#include "tests/chaparctl/ctl_runner.hpp"
#include "tests/support/test_dir.hpp"

namespace chapar::ctl {
namespace {

using test::CtlOutput;
using test::is_one_error_line;

// An installation made by `chaparctl init` with the domain example.test.
class Installation {
 public:
  Installation() {
    auto init = test::run_ctl({"init", "--dir", dir_.path().string(), "--domain", "example.test",
                               "--hostname", "mail.example.test", "--port-base", "30000"});
    REQUIRE_MESSAGE(init.status == kExitOk, init.err);
  }

  std::filesystem::path path(const char* name) const { return dir_ / name; }

  CtlOutput ctl(std::vector<std::string> argv, const std::string& input = "") const {
    argv.insert(argv.begin(), {"--config", (dir_ / "chapar.toml").string()});
    return test::run_ctl(argv, input);
  }

  // Runs a command that must succeed and returns its output.
  std::string ok(std::vector<std::string> argv, const std::string& input = "") const {
    auto result = ctl(std::move(argv), input);
    REQUIRE_MESSAGE(result.status == kExitOk, result.err);
    CHECK(result.err.empty());
    return result.out;
  }

  // Runs a command that must fail with `status` and one line containing `says`.
  void rejects(std::vector<std::string> argv, int status, const std::string& says,
               const std::string& input = "") const {
    auto result = ctl(argv, input);
    CHECK(result.status == status);
    CHECK_MESSAGE(is_one_error_line(result.err), result.err);
    CHECK_MESSAGE(result.err.find(says) != std::string::npos, result.err);
  }

  std::unique_ptr<store::Store> open_store() const {
    auto store = store::Store::open({.data_dir = dir_ / "data"});
    REQUIRE(store);
    return std::move(*store);
  }

 private:
  chapar::test::TestDir dir_;
};

}  // namespace

TEST_CASE("init writes the configuration, certificate and store, and never overwrites") {
  chapar::test::TestDir dir;
  auto first = test::run_ctl({"init", "--dir", (dir / "site").string(), "--domain", "Example.TEST",
                              "--hostname", "mail.example.test"});
  REQUIRE_MESSAGE(first.status == kExitOk, first.err);
  CHECK(std::filesystem::exists(dir / "site" / "chapar.toml"));
  CHECK(std::filesystem::exists(dir / "site" / "tls" / "cert.pem"));
  CHECK(std::filesystem::exists(dir / "site" / "tls" / "key.pem"));
  auto key_perms = std::filesystem::status(dir / "site" / "tls" / "key.pem").permissions();
  CHECK((key_perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all)) ==
        std::filesystem::perms::none);
  CHECK(first.out.find("smtp         127.0.0.1:10025 (starttls)") != std::string::npos);
  CHECK(first.out.find("imaps        127.0.0.1:10993 (implicit)") != std::string::npos);

  auto again = test::run_ctl({"init", "--dir", (dir / "site").string()});
  CHECK(again.status == kExitData);
  CHECK(is_one_error_line(again.err));
  CHECK(again.err.find("chapar.toml exists; not overwriting it") != std::string::npos);

  auto list =
      test::run_ctl({"--config", (dir / "site" / "chapar.toml").string(), "domain", "list"});
  CHECK(list.status == kExitOk);
  CHECK(list.out == "example.test\n");
}

TEST_CASE("init refuses bad options before touching the disk") {
  chapar::test::TestDir dir;
  struct Case {
    std::vector<std::string> extra;
    const char* says;
  };
  const Case cases[] = {
      {{"--port-base", "64541"}, "--port-base: 64541 is out of range (0 to 64540)"},
      {{"--port-base", "ten"}, "--port-base: 'ten' is not a number"},
      {{"--domain", "bad_domain"}, "--domain:"},
      {{"--hostname", "-mail"}, "--hostname:"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.says);
    std::vector<std::string> argv{"init", "--dir", (dir / "site").string()};
    argv.insert(argv.end(), c.extra.begin(), c.extra.end());
    auto result = test::run_ctl(argv);
    CHECK(result.status == kExitData);
    CHECK(is_one_error_line(result.err));
    CHECK(result.err.find(c.says) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir / "site"));
  }
}

TEST_CASE("domains, users, aliases, mailboxes and stats") {
  Installation site;
  CHECK(site.ok({"domain", "add", "Other.Test"}) == "added domain other.test\n");
  CHECK(site.ok({"domain", "list"}) == "example.test\nother.test\n");

  site.ok({"user", "add", "alice@example.test", "--password-stdin"}, "first-pw\n");
  site.ok({"user", "add", "bob@Example.Test", "--password-stdin", "--quota", "1M"}, "bob-pw\r\n");
  CHECK(site.ok({"user", "list"}).find("alice@example.test\n") != std::string::npos);
  CHECK(site.ok({"user", "list", "example.test"}).find("bob@example.test\n") != std::string::npos);
  CHECK(site.ok({"user", "list", "other.test"}).empty());

  std::string show = site.ok({"user", "show", "bob@example.test"});
  CHECK(show.find("quota:     1048576 bytes") != std::string::npos);
  CHECK(show.find("mailboxes: 6") != std::string::npos);

  {
    auto store = site.open_store();
    auto alice = store->find_account("alice@example.test");
    REQUIRE(alice);
    CHECK(auth::verify_password("first-pw", alice->password_hash));
  }
  site.ok({"user", "passwd", "alice@example.test", "--password-stdin"}, "second-pw\n");
  {
    auto store = site.open_store();
    auto alice = store->find_account("alice@example.test");
    REQUIRE(alice);
    CHECK(auth::verify_password("second-pw", alice->password_hash));
    CHECK_FALSE(auth::verify_password("first-pw", alice->password_hash));
  }

  site.ok({"alias", "add", "sales@example.test", "alice@example.test"});
  site.ok({"alias", "add", "@other.test", "bob@example.test"});
  std::string aliases = site.ok({"alias", "list"});
  CHECK(aliases.find("sales@example.test -> alice@example.test\n") != std::string::npos);
  CHECK(aliases.find("@other.test -> bob@example.test\n") != std::string::npos);
  CHECK(site.ok({"alias", "list", "other.test"}) == "@other.test -> bob@example.test\n");
  CHECK(site.ok({"user", "show", "alice@example.test"}).find("alias:     sales@example.test") !=
        std::string::npos);

  std::string mailboxes = site.ok({"mailbox", "list", "alice@example.test"});
  CHECK(mailboxes.find("INBOX") != std::string::npos);
  CHECK(mailboxes.find("\\Sent") != std::string::npos);

  std::string stats = site.ok({"stats"});
  CHECK(stats.find("domains:   2\n") != std::string::npos);
  CHECK(stats.find("accounts:  2\n") != std::string::npos);
  CHECK(stats.find("messages:  0\n") != std::string::npos);

  site.ok({"user", "disable", "alice@example.test"});
  CHECK(site.ok({"user", "show", "alice@example.test"}).find("status:    disabled") !=
        std::string::npos);
  site.ok({"user", "enable", "alice@example.test"});
  CHECK(site.ok({"user", "show", "alice@example.test"}).find("status:    enabled") !=
        std::string::npos);

  site.ok({"alias", "remove", "sales@example.test"});
  CHECK(site.ok({"alias", "list", "example.test"}).empty());
  site.ok({"user", "quota", "bob@example.test", "0"});
  CHECK(site.ok({"user", "show", "bob@example.test"}).find("quota:     unlimited") !=
        std::string::npos);
  site.ok({"user", "remove", "bob@example.test"});
  CHECK(site.ok({"alias", "list"}).find("bob@") == std::string::npos);
  site.ok({"domain", "remove", "other.test"});
  CHECK(site.ok({"domain", "list"}) == "example.test\n");
}

TEST_CASE("wrong input is rejected with one line and a telling status") {
  Installation site;
  site.ok({"user", "add", "alice@example.test", "--password-stdin"}, "pw\n");
  site.ok({"alias", "add", "info@example.test", "alice@example.test"});

  site.rejects({"domain", "add", "example.test"}, kExitData, "domain example.test exists");
  site.rejects({"domain", "add", "not a domain"}, kExitData, "invalid character in domain");
  site.rejects({"domain", "remove", "nowhere.test"}, kExitNoUser, "unknown domain nowhere.test");
  site.rejects({"domain", "remove", "example.test"}, kExitData, "still has 1 account(s)");

  site.rejects({"user", "add", "carol@nowhere.test", "--password-stdin"}, kExitNoUser,
               "unknown domain nowhere.test (add it with 'chaparctl domain add nowhere.test')",
               "pw\n");
  site.rejects({"user", "add", "ALICE@example.test", "--password-stdin"}, kExitData,
               "account alice@example.test exists", "pw\n");
  site.rejects({"user", "add", "info@example.test", "--password-stdin"}, kExitData,
               "info@example.test is an alias of alice@example.test", "pw\n");
  site.rejects({"user", "add", "carol", "--password-stdin"}, kExitData, "not an address", "pw\n");
  site.rejects({"user", "add", "car+ol@example.test", "--password-stdin"}, kExitData,
               "plus-addressing", "pw\n");
  site.rejects({"user", "add", "carol@example.test", "--password-stdin"}, kExitData,
               "no password on standard input", "");
  site.rejects({"user", "add", "carol@example.test", "--password-stdin"}, kExitData,
               "empty password", "\n");
  site.rejects({"user", "add", "carol@example.test", "--password-stdin", "--quota", "lots"},
               kExitData, "--quota: 'lots' is not a size", "pw\n");
  site.rejects({"user", "passwd", "nobody@example.test", "--password-stdin"}, kExitNoUser,
               "no account nobody@example.test", "pw\n");
  site.rejects({"user", "remove", "nobody@example.test"}, kExitNoUser, "no account");
  site.rejects({"user", "show", "nobody@example.test"}, kExitNoUser, "no account");
  site.rejects({"user", "list", "nowhere.test"}, kExitNoUser, "unknown domain");
  site.rejects({"user", "quota", "alice@example.test", "5X"}, kExitData, "is not a size");

  site.rejects({"alias", "add", "x@nowhere.test", "alice@example.test"}, kExitNoUser,
               "unknown domain nowhere.test");
  site.rejects({"alias", "add", "x@example.test", "nobody@example.test"}, kExitNoUser,
               "no account nobody@example.test (an alias leads to an account)");
  site.rejects({"alias", "add", "alice@example.test", "alice@example.test"}, kExitData,
               "alice@example.test is an account");
  site.rejects({"alias", "add", "info@example.test", "alice@example.test"}, kExitData,
               "alias info@example.test exists");
  site.rejects({"alias", "add", "@", "alice@example.test"}, kExitData, "empty domain");
  site.rejects({"alias", "remove", "none@example.test"}, kExitNoUser, "no alias none@example.test");

  site.rejects({"mailbox", "list", "nobody@example.test"}, kExitNoUser, "no account");

  // Nothing of the above left a trace.
  CHECK(site.ok({"user", "list"}) == "alice@example.test\n");
  CHECK(site.ok({"alias", "list"}) == "info@example.test -> alice@example.test\n");
  CHECK(site.ok({"domain", "list"}) == "example.test\n");
}

}  // namespace chapar::ctl
