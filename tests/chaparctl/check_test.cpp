// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/check.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <sstream>
#include <string>

#include "chaparctl/check_ports.hpp"
#include "chaparctl/check_report.hpp"
#include "chaparctl/check_store.hpp"
#include "chaparctl/check_tls.hpp"
#include "common/config.hpp"
#include "common/tls/self_signed.hpp"
#include "libmailstore/store.hpp"
#include "tests/chaparctl/ctl_runner.hpp"
#include "tests/support/test_dir.hpp"

namespace chapar::ctl {
namespace {

namespace fs = std::filesystem;
using test::run_ctl;

constexpr std::time_t kYear = 365 * 24 * 3600;

bool mentions(const CheckReport& report, std::string_view prefix, std::string_view text) {
  for (const std::string& line : report.lines) {
    if (line.starts_with(prefix) && line.find(text) != std::string::npos) return true;
  }
  return false;
}

// A TCP socket listening on 127.0.0.1 at a port the system chose.
struct Listening {
  int fd = -1;
  uint16_t port = 0;
  Listening() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(fd, 1) == 0);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
  }
  ~Listening() { ::close(fd); }
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const fs::path& path, std::string_view text) {
  std::ofstream out(path);
  out << text;
}

config::Config loopback_config(uint16_t port) {
  config::Config config;
  config.imapd.listeners.push_back({"imap", "127.0.0.1", port, net::TlsMode::kNone});
  return config;
}

}  // namespace

TEST_CASE("a certificate for the host name with its key is in order") {
  chapar::test::TestDir dir;
  REQUIRE(tls::generate_self_signed("mail.example.test", dir / "cert.pem", dir / "key.pem"));
  CertificateCheck check{dir / "cert.pem", dir / "key.pem", "mail.example.test", "user chapar",
                         std::time(nullptr)};
  CheckReport report;
  check_certificate(check, report);
  CHECK(report.problems == 0);
  CHECK(mentions(report, "ok: ", "valid until"));

  SUBCASE("another host name") {
    check.hostname = "mx.example.test";
    check_certificate(check, report);
    CHECK(report.problems == 1);
    CHECK(mentions(report, "problem: ", "is not issued for mx.example.test"));
  }
  SUBCASE("another key") {
    REQUIRE(tls::generate_self_signed("mail.example.test", dir / "other.pem", dir / "other.key"));
    check.key = dir / "other.key";
    check_certificate(check, report);
    CHECK(report.problems == 1);
    CHECK(mentions(report, "problem: tls.key: ", "is not the key of"));
  }
  SUBCASE("expired") {
    check.now = std::time(nullptr) + 11 * kYear;
    check_certificate(check, report);
    CHECK(mentions(report, "problem: tls.certificate: ", "expired on"));
  }
  SUBCASE("expiring soon") {
    check.now = std::time(nullptr) + 10 * kYear - 3 * 24 * 3600;
    check_certificate(check, report);
    CHECK(mentions(report, "problem: tls.certificate: ", "expires on"));
  }
  SUBCASE("not valid yet") {
    check.now = std::time(nullptr) - kYear;
    check_certificate(check, report);
    CHECK(mentions(report, "problem: tls.certificate: ", "is valid only from"));
  }
  SUBCASE("missing files and settings") {
    check.certificate = dir / "absent.pem";
    check_certificate(check, report);
    CHECK(mentions(report, "problem: tls.certificate: ", "does not exist"));
    CheckReport unset;
    CertificateCheck nothing;
    nothing.hostname = "mail.example.test";
    check_certificate(nothing, unset);
    CHECK(mentions(unset, "problem: ", "tls.certificate is not set"));
  }
  SUBCASE("not PEM") {
    check.certificate = dir / "key.pem";
    check_certificate(check, report);
    CHECK(mentions(report, "problem: tls.certificate: ", "holds no PEM certificate"));
  }
}

TEST_CASE("the store check finds a missing, a current and a too new store") {
  chapar::test::TestDir dir;
  CheckReport missing;
  check_store(dir / "data", "user chapar", missing);
  CHECK(mentions(missing, "problem: store.data_dir: ", "chaparctl quickstart"));

  { REQUIRE(store::Store::open({.data_dir = dir / "data", .create = true})); }
  CheckReport current;
  check_store(dir / "data", "user chapar", current);
  CHECK(current.problems == 0);
  CHECK(mentions(current, "ok: store ", "schema version"));

  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((dir / "data" / "chapar.db").c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "INSERT INTO schema_version(version, applied) VALUES (100000, 0)",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  CheckReport newer;
  check_store(dir / "data", "user chapar", newer);
  CHECK(mentions(newer, "problem: store: ", "newer than this build"));
}

TEST_CASE("a port held by another program is a problem naming it; a free one is in order") {
  Listening held;
  CHECK(find_port_holder(held.port).pid == ::getpid());

  CheckReport busy;
  check_ports(loopback_config(held.port), busy);
  CHECK(busy.problems == 1);
  CHECK(mentions(busy, "problem: imapd.listeners[0] ", "the port is in use by"));
  CHECK(mentions(busy, "problem: imapd.listeners[0] ", "change imapd.listeners[0].port"));

  uint16_t free_port = 0;
  {
    Listening released;
    free_port = released.port;
  }
  CheckReport free;
  check_ports(loopback_config(free_port), free);
  CHECK(free.problems == 0);
  CHECK(mentions(free, "ok: imapd.listeners[0] ", "is free"));

  CheckReport foreign;
  config::Config config = loopback_config(free_port);
  config.imapd.listeners[0].address = "192.0.2.1";  // RFC 5737: not on this host
  check_ports(config, foreign);
  CHECK(mentions(foreign, "problem: ", "is not an address of this host"));
}

TEST_CASE("check reports each problem on its own line and fails when there are any") {
  chapar::test::TestDir dir;
  auto init = run_ctl({"init", "--dir", dir.path().string(), "--hostname", "mail.example.test"});
  REQUIRE_MESSAGE(init.status == 0, init.err);
  const std::string config_path = (dir / "chapar.toml").string();
  // Port 0 everywhere (the system picks at start-up): no port is tested, so that the outcome
  // does not depend on what else runs on this machine.
  std::string text = read_file(config_path);
  for (size_t at = text.find("\nport = "); at != std::string::npos;
       at = text.find("\nport = ", at + 1)) {
    size_t end = text.find('\n', at + 1);
    text.replace(at, end - at, "\nport = 0");
  }
  write_file(config_path, text);
  auto result = run_ctl({"--config", config_path, "check"});
  CHECK(result.out.find("ok: configuration ") == 0);
  CHECK(result.out.find("ok: certificate ") != std::string::npos);
  CHECK(result.out.find("ok: store ") != std::string::npos);
  if (::geteuid() == 0) {
    // As root, an empty server.user is a problem: the daemons would keep root.
    CHECK(result.status == 65);
    CHECK(result.out.find("problem: server.user is empty") != std::string::npos);
    CHECK(test::is_one_error_line(result.err));
  } else {
    CHECK_MESSAGE(result.status == 0, result.out);
    CHECK(result.out.find("everything is in order\n") != std::string::npos);
  }

  fs::remove(dir / "tls" / "key.pem");
  auto broken = run_ctl({"--config", config_path, "check"});
  CHECK(broken.status == 65);
  CHECK(broken.out.find("problem: tls.key: ") != std::string::npos);
}

}  // namespace chapar::ctl
