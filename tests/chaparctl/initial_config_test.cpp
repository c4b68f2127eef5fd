// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/initial_config.hpp"

#include <doctest/doctest.h>

#include <string>

#include "common/config.hpp"

namespace chapar::ctl {

TEST_CASE("the initial configuration loads and has every listener at base + offset") {
  InitialConfig settings;
  settings.data_dir = "/srv/chapar/data";
  settings.certificate = "/srv/chapar/tls/cert.pem";
  settings.key = "/srv/chapar/tls/key.pem";
  settings.hostname = "mail.example.test";
  settings.port_base = 20000;
  auto config = config::parse(render_config(settings), "/srv/chapar/chapar.toml");
  REQUIRE_MESSAGE(config, (config ? "" : config.error().message));
  CHECK(config->server.hostname == "mail.example.test");
  CHECK(config->server.user.empty());
  CHECK(config->store.data_dir == "/srv/chapar/data");
  CHECK(config->tls.certificate == "/srv/chapar/tls/cert.pem");
  CHECK(config->tls.key == "/srv/chapar/tls/key.pem");

  struct Expected {
    const std::vector<config::Listener>* listeners;
    size_t index;
    const char* name;
    uint16_t port;
    net::TlsMode tls;
  };
  const Expected expected[] = {
      {&config->smtpd.listeners, 0, "smtp", 20025, net::TlsMode::kStartTls},
      {&config->smtpd.listeners, 1, "submission", 20587, net::TlsMode::kStartTls},
      {&config->smtpd.listeners, 2, "submissions", 20465, net::TlsMode::kImplicit},
      {&config->pop3d.listeners, 0, "pop3", 20110, net::TlsMode::kStartTls},
      {&config->pop3d.listeners, 1, "pop3s", 20995, net::TlsMode::kImplicit},
      {&config->imapd.listeners, 0, "imap", 20143, net::TlsMode::kStartTls},
      {&config->imapd.listeners, 1, "imaps", 20993, net::TlsMode::kImplicit},
  };
  CHECK(config->smtpd.listeners.size() == 3);
  CHECK(config->pop3d.listeners.size() == 2);
  CHECK(config->imapd.listeners.size() == 2);
  for (const Expected& e : expected) {
    CAPTURE(e.name);
    REQUIRE(e.index < e.listeners->size());
    const config::Listener& l = (*e.listeners)[e.index];
    CHECK(l.name == e.name);
    CHECK(l.port == e.port);
    CHECK(l.tls == e.tls);
    CHECK(l.address == "127.0.0.1");
  }
}

TEST_CASE("paths with quotes and backslashes survive the TOML round trip") {
  InitialConfig settings;
  settings.data_dir = "/tmp/we\"ird\\dir\tname/data";
  settings.certificate = "/c.pem";
  settings.key = "/k.pem";
  settings.hostname = "localhost";
  auto config = config::parse(render_config(settings), "chapar.toml");
  REQUIRE_MESSAGE(config, (config ? "" : config.error().message));
  CHECK(config->store.data_dir == settings.data_dir);
  CHECK(toml_string("a\"b\\c\x01") == "\"a\\\"b\\\\c\\u0001\"");
}

TEST_CASE("the highest port base keeps every port valid") {
  uint16_t highest = 0;
  for (const PlannedListener& l : planned_listeners()) highest = std::max(highest, l.offset);
  CHECK(max_port_base() + highest == 65535);
}

}  // namespace chapar::ctl
