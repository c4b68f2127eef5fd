// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/daemon.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/common/net_test_support.hpp"
#include "tests/common/tls_test_support.hpp"

namespace chapar {
namespace {

using namespace std::chrono_literals;

DaemonSpec echo_spec(test::EchoStats& stats) {
  return DaemonSpec{
      "chapar-testd",
      [](const config::Config& c) -> const std::vector<config::Listener>& {
        return c.smtpd.listeners;
      },
      [](const config::Config& c) -> const config::ConnectionLimits& {
        return c.smtpd.connections;
      },
      [&stats](DaemonContext& context) -> Result<net::SessionFactory> {
        // Something of the daemon's own on the loop, stopped by a shutdown hook.
        auto timer = std::make_shared<uv_timer_t>();
        uv_timer_init(context.loop, timer.get());
        uv_timer_start(
            timer.get(), [](uv_timer_t*) {}, 60000, 60000);
        context.on_shutdown(
            [timer] { uv_close(reinterpret_cast<uv_handle_t*>(timer.get()), nullptr); });
        net::SessionFactory echo = test::echo_factory(stats);
        // The factory keeps the timer's memory until the loop has ended.
        return net::SessionFactory([echo, timer](net::SessionHost& host) { return echo(host); });
      }};
}

int run(std::vector<std::string> args, const DaemonSpec& spec) {
  args.insert(args.begin(), spec.name);
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  return run_daemon(static_cast<int>(args.size()), argv.data(), spec);
}

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

// Reads a child's stderr line by line, with a deadline.
class LogPipe {
 public:
  explicit LogPipe(int fd) : fd_(fd) {}
  ~LogPipe() { ::close(fd_); }

  // The first line containing `needle`, or empty when the pipe closes or time runs out.
  std::string wait_for(std::string_view needle) {
    for (;;) {
      size_t end;
      while ((end = buffer_.find('\n')) != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        all_ += line + "\n";
        if (line.find(needle) != std::string::npos) return line;
      }
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20000) != 1) return {};
      char chunk[4096];
      ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n <= 0) return {};
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
  const std::string& all() const { return all_; }

 private:
  int fd_;
  std::string buffer_;
  std::string all_;
};

std::string field(const std::string& line, std::string_view key) {
  std::string needle = " " + std::string(key) + "=";
  size_t at = line.find(needle);
  if (at == std::string::npos) return {};
  at += needle.size();
  return line.substr(at, line.find(' ', at) - at);
}

bool wait_exit(pid_t pid, int& status) {
  return test::eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; });
}

TEST_CASE("daemon: flags") {
  test::EchoStats stats;
  DaemonSpec spec = echo_spec(stats);
  CHECK(run({"--version"}, spec) == 0);
  CHECK(run({"--help"}, spec) == 0);
  CHECK(run({"--bogus"}, spec) == kExitUsage);
  CHECK(run({"--config"}, spec) == kExitUsage);
}

TEST_CASE("daemon: a missing or bad configuration exits 78") {
  test::EchoStats stats;
  DaemonSpec spec = echo_spec(stats);
  test::TestDir dir;
  CHECK(run({"--config", (dir / "missing.toml").string()}, spec) == config::kExitConfig);
  { std::ofstream(dir / "bad.toml") << "[server]\nno_such_key = 1\n"; }
  CHECK(run({"--config", (dir / "bad.toml").string()}, spec) == config::kExitConfig);
  { std::ofstream(dir / "empty.toml") << "[server]\nhostname = \"a.example\"\n"; }
  CHECK(run({"--config=" + (dir / "empty.toml").string()}, spec) == config::kExitConfig);
}

TEST_CASE("daemon: serves, reloads on SIGHUP, stops on SIGTERM") {
  test::TestCertificate cert;
  test::TestDir dir;
  uint16_t port = free_port();
  auto config_path = dir / "chapar.toml";
  {
    std::ofstream out(config_path);
    out << "[server]\nhostname = \"mail.example.test\"\n"
        << "[store]\ndata_dir = \"" << (dir / "data").string() << "\"\n"
        << "[tls]\ncertificate = \"" << cert.certificate.string() << "\"\n"
        << "key = \"" << cert.key.string() << "\"\n"
        << "[[smtpd.listeners]]\nname = \"smtp\"\naddress = \"127.0.0.1\"\n"
        << "port = " << port << "\ntls = \"starttls\"\n";
  }
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], STDERR_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    test::EchoStats stats;
    std::_Exit(run({"--config", config_path.string()}, echo_spec(stats)));
  }
  ::close(fds[1]);
  LogPipe log(fds[0]);

  std::string listening = log.wait_for("event=listening");
  REQUIRE_MESSAGE(!listening.empty(), log.all());
  CHECK(field(listening, "name") == "smtp");
  CHECK(field(listening, "address") == "127.0.0.1");
  CHECK(field(listening, "port") == std::to_string(port));
  CHECK(field(listening, "tls") == "starttls");
  REQUIRE_FALSE(log.wait_for("event=started").empty());

  test::TestClient client(port);
  CHECK(client.line() == "220 ready");
  client.send("STARTTLS\r\n");
  CHECK(client.line() == "220 go");
  tls::Context client_tls = cert.client_context(true);
  client.start_tls(client_tls.native(), "mail.example.test");
  client.send("TLS?\r\n");
  CHECK(client.line() == "250 TLSv1.3");

  REQUIRE(::kill(pid, SIGHUP) == 0);
  CHECK_FALSE(log.wait_for("event=tls_reloaded").empty());
  client.send("still\r\n");
  CHECK(client.line() == "> still");

  REQUIRE(::kill(pid, SIGTERM) == 0);
  CHECK(client.line() == "421 shutting down");
  CHECK(client.closed_by_peer());
  int status = 0;
  REQUIRE(wait_exit(pid, status));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_FALSE(log.wait_for("event=exit").empty());
  CHECK(log.all().find("conn=") != std::string::npos);
}

TEST_CASE("daemon: a port in use stops start-up") {
  int blocker = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  REQUIRE(::bind(blocker, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(blocker, 1) == 0);
  REQUIRE(::getsockname(blocker, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  test::TestDir dir;
  {
    std::ofstream(dir / "c.toml") << "[[smtpd.listeners]]\nname = \"smtp\"\naddress = "
                                     "\"127.0.0.1\"\ntls = \"none\"\nport = "
                                  << ntohs(address.sin_port) << "\n";
  }
  test::EchoStats stats;
  CHECK(run({"--config", (dir / "c.toml").string()}, echo_spec(stats)) == 1);
  ::close(blocker);
}

}  // namespace
}  // namespace chapar
