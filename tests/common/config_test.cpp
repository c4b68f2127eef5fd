// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/config.hpp"

#include <unistd.h>

#include <climits>
#include <fstream>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "tests/support/test_dir.hpp"

namespace chapar::config {
namespace {

using namespace std::chrono_literals;

// The error message for `text` read from "/etc/chapar/chapar.toml".
std::string error_of(std::string_view text) {
  auto result = parse(text, "/etc/chapar/chapar.toml");
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == Errc::kInvalidArgument);
  return result.error().message;
}

constexpr std::string_view kFull = R"(# every key, none at its default
[server]
hostname = "mail.example.org"
user = "chapar"
log_level = "debug"

[store]
data_dir = "/srv/chapar"

[tls]
certificate = "/etc/tls/fullchain.pem"
key = "tls/privkey.pem"

[auth]
failure_delay_ms = 250
max_failure_delay_ms = 8000
failure_window_seconds = 600
global_failure_threshold = 40

[smtpd]
max_message_size = 1048576
max_recipients = 50
max_messages_per_connection = 7
max_line_length = 2000
command_timeout_seconds = 60
data_timeout_seconds = 120
max_errors = 3

[smtpd.connections]
max_connections = 10
max_connections_per_ip = 2
new_connections_per_ip_per_minute = 5
max_output_buffer = 65536
max_input_buffer = 8192
min_data_rate = 2000

[[smtpd.listeners]]
name = "smtp"
address = "::"
port = 2525
tls = "none"

[[smtpd.listeners]]
name = "submissions"
address = "127.0.0.1"
port = 4650

[smtpd.outbound]
smarthost = "relay.example.net:587"
smarthost_tls = "implicit"
smarthost_user = "relay"
smarthost_password_file = "/etc/chapar/relay.secret"
mx_port = 2525
resolver = "127.0.0.1:5353"
verify_certificates = true
retry_delays_seconds = [60, 120]
give_up_after_seconds = 3600
warn_after_seconds = 600
max_concurrent_deliveries = 3
max_per_destination = 1
connect_timeout_seconds = 5
reply_timeout_seconds = 60
data_start_timeout_seconds = 20
data_block_timeout_seconds = 30
data_end_timeout_seconds = 90
full_return_limit = 1000000
default_return_limit = 0

[pop3d]
max_line_length = 1024
idle_timeout_seconds = 900

[pop3d.connections]
max_connections = 11

[[pop3d.listeners]]
name = "pop3s"
port = 9950

[imapd]
max_command_length = 100000
max_literal_size = 2048
idle_timeout_seconds = 3600

[[imapd.listeners]]
name = "imap"
address = "192.0.2.1"
tls = "implicit"
)";

TEST_CASE("config: a full file fills every field") {
  auto result = parse(kFull, "/etc/chapar/chapar.toml");
  REQUIRE_MESSAGE(result.has_value(), result.error().message);
  const Config& c = *result;
  CHECK(c.path == "/etc/chapar/chapar.toml");
  CHECK(c.server.hostname == "mail.example.org");
  CHECK(c.server.user == "chapar");
  CHECK(c.server.log_level == "debug");
  CHECK(c.store.data_dir == "/srv/chapar");
  CHECK(c.tls.certificate == "/etc/tls/fullchain.pem");
  CHECK(c.tls.key == "/etc/chapar/tls/privkey.pem");  // relative to the file
  CHECK(c.auth.failure_delay == 250ms);
  CHECK(c.auth.max_failure_delay == 8000ms);
  CHECK(c.auth.failure_window == 600s);
  CHECK(c.auth.global_failure_threshold == 40);

  const Smtpd& s = c.smtpd;
  CHECK(s.max_message_size == 1048576);
  CHECK(s.max_recipients == 50);
  CHECK(s.max_messages_per_connection == 7);
  CHECK(s.max_line_length == 2000);
  CHECK(s.command_timeout == 60s);
  CHECK(s.data_timeout == 120s);
  CHECK(s.max_errors == 3);
  CHECK(s.connections.max_connections == 10);
  CHECK(s.connections.max_connections_per_ip == 2);
  CHECK(s.connections.new_connections_per_ip_per_minute == 5);
  CHECK(s.connections.max_output_buffer == 65536);
  CHECK(s.connections.max_input_buffer == 8192);
  CHECK(s.connections.min_data_rate == 2000);
  REQUIRE(s.listeners.size() == 2);
  CHECK(s.listeners[0].name == "smtp");
  CHECK(s.listeners[0].address == "::");
  CHECK(s.listeners[0].port == 2525);
  CHECK(s.listeners[0].tls == net::TlsMode::kNone);
  CHECK(s.listeners[1].name == "submissions");
  CHECK(s.listeners[1].address == "127.0.0.1");
  CHECK(s.listeners[1].port == 4650);
  CHECK(s.listeners[1].tls == net::TlsMode::kImplicit);  // from the name

  const Outbound& o = s.outbound;
  CHECK(o.smarthost == "relay.example.net:587");
  CHECK(o.smarthost_tls == "implicit");
  CHECK(o.smarthost_user == "relay");
  CHECK(o.smarthost_password_file == "/etc/chapar/relay.secret");
  CHECK(o.mx_port == 2525);
  CHECK(o.resolver == "127.0.0.1:5353");
  CHECK(o.verify_certificates);
  CHECK(o.retry_delays == std::vector<std::chrono::seconds>{60s, 120s});
  CHECK(o.give_up_after == 3600s);
  CHECK(o.warn_after == 600s);
  CHECK(o.max_concurrent_deliveries == 3);
  CHECK(o.max_per_destination == 1);
  CHECK(o.connect_timeout == 5s);
  CHECK(o.reply_timeout == 60s);
  CHECK(o.data_start_timeout == 20s);
  CHECK(o.data_block_timeout == 30s);
  CHECK(o.data_end_timeout == 90s);
  CHECK(o.full_return_limit == 1000000);
  CHECK(o.default_return_limit == 0);

  CHECK(c.pop3d.max_line_length == 1024);
  CHECK(c.pop3d.idle_timeout == 900s);
  CHECK(c.pop3d.connections.max_connections == 11);
  CHECK(c.pop3d.connections.max_connections_per_ip == 20);
  REQUIRE(c.pop3d.listeners.size() == 1);
  CHECK(c.pop3d.listeners[0].address == "0.0.0.0");
  CHECK(c.pop3d.listeners[0].port == 9950);
  CHECK(c.pop3d.listeners[0].tls == net::TlsMode::kImplicit);

  CHECK(c.imapd.max_command_length == 100000);
  CHECK(c.imapd.max_literal_size == 2048);
  CHECK(c.imapd.idle_timeout == 3600s);
  REQUIRE(c.imapd.listeners.size() == 1);
  CHECK(c.imapd.listeners[0].port == 143);  // from the name
  CHECK(c.imapd.listeners[0].tls == net::TlsMode::kImplicit);
}

TEST_CASE("config: an empty file gives the defaults") {
  auto result = parse("", "chapar.toml");
  REQUIRE(result.has_value());
  const Config& c = *result;
  char host[HOST_NAME_MAX + 1] = {};
  REQUIRE(gethostname(host, sizeof host - 1) == 0);
  CHECK(c.server.hostname == host);
  CHECK(c.server.log_level == "info");
  CHECK(c.store.data_dir == "/var/lib/chapar");
  CHECK(c.tls.certificate.empty());
  CHECK(c.auth.failure_delay == 500ms);
  CHECK(c.auth.max_failure_delay == 15000ms);
  CHECK(c.auth.failure_window == 900s);
  CHECK(c.smtpd.listeners.empty());
  CHECK(c.smtpd.max_message_size == 52428800);
  CHECK(c.smtpd.max_line_length == 1000);
  CHECK(c.smtpd.outbound.retry_delays.size() == 6);
  CHECK(c.smtpd.outbound.give_up_after == 432000s);
  CHECK(c.smtpd.outbound.reply_timeout == 300s);
  CHECK(c.smtpd.outbound.default_return_limit == 65536);
  CHECK(c.pop3d.max_line_length == 512);
  CHECK(c.imapd.idle_timeout == 1800s);
}

TEST_CASE("config: default ports and TLS modes follow the listener name") {
  auto result = parse(R"([tls]
certificate = "c.pem"
key = "k.pem"
[[smtpd.listeners]]
name = "smtp"
[[smtpd.listeners]]
name = "submission"
[[smtpd.listeners]]
name = "submissions"
[[pop3d.listeners]]
name = "pop3"
[[imapd.listeners]]
name = "imaps"
)",
                      "/x/chapar.toml");
  REQUIRE_MESSAGE(result.has_value(), result.error().message);
  const auto& l = result->smtpd.listeners;
  REQUIRE(l.size() == 3);
  CHECK(l[0].port == 25);
  CHECK(l[0].tls == net::TlsMode::kStartTls);
  CHECK(l[1].port == 587);
  CHECK(l[1].tls == net::TlsMode::kStartTls);
  CHECK(l[2].port == 465);
  CHECK(l[2].tls == net::TlsMode::kImplicit);
  CHECK(result->pop3d.listeners[0].port == 110);
  CHECK(result->imapd.listeners[0].port == 993);
  CHECK(result->tls.certificate == "/x/c.pem");
}

TEST_CASE("config: errors name file, line and key") {
  constexpr std::string_view kFile = "/etc/chapar/chapar.toml";
  auto expect = [&](std::string_view text, int line, std::string_view key,
                    std::string_view reason) {
    std::string want = fmt::format("{}:{}: {}: {}", kFile, line, key, reason);
    CHECK(error_of(text) == want);
  };

  SUBCASE("unknown keys, at every depth") {
    expect("[server]\nhostname = \"a\"\ncolour = \"red\"\n", 3, "server.colour", "unknown key");
    expect("\n[nonsense]\nx = 1\n", 2, "nonsense", "unknown key");
    expect("[smtpd.outbound]\nsmarthost_port = 1\n", 2, "smtpd.outbound.smarthost_port",
           "unknown key");
    expect("[[imapd.listeners]]\nname = \"imap\"\nport = 1430\nbacklog = 5\n", 4,
           "imapd.listeners[0].backlog", "unknown key");
  }
  SUBCASE("wrong types") {
    expect("[smtpd]\nmax_recipients = \"many\"\n", 2, "smtpd.max_recipients",
           "expected an integer");
    expect("[server]\n\nhostname = 5\n", 3, "server.hostname", "expected a string");
    expect("[smtpd.outbound]\nverify_certificates = \"yes\"\n", 2,
           "smtpd.outbound.verify_certificates", "expected true or false");
    expect("server = 1\n", 1, "server", "expected a table");
    expect("[smtpd]\nlisteners = 5\n", 2, "smtpd.listeners",
           "expected an array of tables ([[...]])");
    expect("[smtpd.outbound]\nretry_delays_seconds = [60, \"x\"]\n", 2,
           "smtpd.outbound.retry_delays_seconds[1]",
           "expected an integer between 1 and 4294967295");
  }
  SUBCASE("bad values") {
    expect(
        "[[smtpd.listeners]]\nname = \"smtp\"\nport = 25\n[[smtpd.listeners]]\n"
        "name = \"submission\"\nport = 70000\n",
        6, "smtpd.listeners[1].port", "must be between 0 and 65535");
    expect("[[pop3d.listeners]]\nname = \"pop3\"\ntls = \"sometimes\"\n", 3,
           "pop3d.listeners[0].tls", "must be one of none, starttls, implicit");
    expect("[[imapd.listeners]]\nname = \"imap4\"\n", 2, "imapd.listeners[0].name",
           "must be one of imap, imaps");
    expect("[[smtpd.listeners]]\nport = 25\n", 1, "smtpd.listeners[0].name", "is required");
    expect("[[smtpd.listeners]]\nname = \"smtp\"\naddress = \"localhost\"\n", 3,
           "smtpd.listeners[0].address", "not an IP address");
    expect("[smtpd]\nmax_message_size = -1\n", 2, "smtpd.max_message_size",
           "must be at least 1024");
    expect("[smtpd.connections]\nmax_input_buffer = -5\n", 2, "smtpd.connections.max_input_buffer",
           "must be at least 1024");
    expect("[smtpd]\nmax_line_length = 80\n", 2, "smtpd.max_line_length", "must be at least 1000");
    expect("[server]\nlog_level = \"loud\"\n", 2, "server.log_level",
           "must be one of debug, info, warning, error");
    expect("[server]\nhostname = \"mail example\"\n", 2, "server.hostname",
           "not a valid host name");
    expect("[auth]\nfailure_delay_ms = 1000\nmax_failure_delay_ms = 10\n", 3,
           "auth.max_failure_delay_ms", "must not be less than failure_delay_ms");
    expect("[smtpd.outbound]\nresolver = \"dns.example:53\"\n", 2, "smtpd.outbound.resolver",
           "must be an IP address, optionally with a port");
    expect("[smtpd.outbound]\nsmarthost = \"relay:0\"\n", 2, "smtpd.outbound.smarthost",
           "the port is missing or 0");
    expect("[smtpd.outbound]\nretry_delays_seconds = []\n", 2,
           "smtpd.outbound.retry_delays_seconds", "must not be empty");
    expect("[store]\ndata_dir = \"\"\n", 2, "store.data_dir", "must not be empty");
    expect("[tls]\ncertificate = \"c.pem\"\n", 2, "tls.certificate", "tls.key must be set as well");
  }
  SUBCASE("checks across sections") {
    expect("[[smtpd.listeners]]\nname = \"smtp\"\ntls = \"starttls\"\n", 1,
           "smtpd.listeners[0].tls",
           "TLS needs a certificate and key: set tls.certificate and tls.key");
    expect(
        "[[smtpd.listeners]]\nname = \"smtp\"\ntls = \"none\"\nport = 2000\n"
        "[[imapd.listeners]]\nname = \"imap\"\ntls = \"none\"\nport = 2000\n",
        5, "imapd.listeners[0].port", "0.0.0.0 port 2000 is already used by smtpd.listeners[0]");
  }
}

TEST_CASE("config: port 0 lets the system choose, for any number of listeners") {
  auto result = parse(
      "[[smtpd.listeners]]\nname = \"smtp\"\ntls = \"none\"\nport = 0\n"
      "[[smtpd.listeners]]\nname = \"submission\"\ntls = \"none\"\nport = 0\n",
      "/etc/chapar/chapar.toml");
  REQUIRE(result.has_value());
  CHECK(result->smtpd.listeners[0].port == 0);
  CHECK(result->smtpd.listeners[1].port == 0);
}

TEST_CASE("config: syntax errors name file and line") {
  std::string message = error_of("[server]\nhostname = \"a\"\nuser = \n");
  CHECK(message.rfind("/etc/chapar/chapar.toml:3: ", 0) == 0);
  message = error_of("[server]\n[server]\n");
  CHECK(message.rfind("/etc/chapar/chapar.toml:2: ", 0) == 0);
}

TEST_CASE("config: every error is reported, in file order") {
  std::string message = error_of("[smtpd]\nmax_errors = 0\n[server]\nwhat = 1\nuser = 2\n");
  CHECK(message ==
        "/etc/chapar/chapar.toml:2: smtpd.max_errors: must be between 1 and 4294967295\n"
        "/etc/chapar/chapar.toml:4: server.what: unknown key\n"
        "/etc/chapar/chapar.toml:5: server.user: expected a string");
}

TEST_CASE("config: load reads a file and reports a missing one") {
  test::TestDir dir;
  {
    std::ofstream out(dir / "chapar.toml");
    out << "[store]\ndata_dir = \"data\"\n[server]\nport = 1\n";
  }
  auto result = load(dir / "chapar.toml");
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().message == (dir / "chapar.toml").string() + ":4: server.port: unknown key");
  {
    std::ofstream out(dir / "chapar.toml");
    out << "[store]\ndata_dir = \"data\"\n";
  }
  result = load(dir / "chapar.toml");
  REQUIRE(result.has_value());
  CHECK(result->store.data_dir == dir / "data");

  result = load(dir / "missing.toml");
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == Errc::kNotFound);
  CHECK(result.error().message.find("missing.toml") != std::string::npos);
}

TEST_CASE("config: host and port") {
  auto hp = parse_host_port("relay.example.net:587", 25);
  REQUIRE(hp.has_value());
  CHECK(hp->host == "relay.example.net");
  CHECK(hp->port == 587);
  hp = parse_host_port("relay.example.net", 25);
  REQUIRE(hp.has_value());
  CHECK(hp->port == 25);
  hp = parse_host_port("[2001:db8::1]:53", 0);
  REQUIRE(hp.has_value());
  CHECK(hp->host == "2001:db8::1");
  CHECK(hp->port == 53);
  hp = parse_host_port("[::1]", 53);
  REQUIRE(hp.has_value());
  CHECK(hp->port == 53);
  CHECK_FALSE(parse_host_port("2001:db8::1", 53).has_value());
  CHECK_FALSE(parse_host_port(":25", 25).has_value());
  CHECK_FALSE(parse_host_port("host:", 25).has_value());
  CHECK_FALSE(parse_host_port("host:65536", 25).has_value());
  CHECK_FALSE(parse_host_port("host:2x", 25).has_value());
  CHECK_FALSE(parse_host_port("host", 0).has_value());
  CHECK_FALSE(parse_host_port("[::1", 53).has_value());
  CHECK_FALSE(parse_host_port("[::1]x", 53).has_value());
}

}  // namespace
}  // namespace chapar::config
