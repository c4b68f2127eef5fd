// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/quickstart.hpp"

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "chaparctl/quickstart_config.hpp"
#include "chaparctl/quickstart_dkim.hpp"
#include "chaparctl/quickstart_dns.hpp"
#include "common/config.hpp"
#include "common/text/base64.hpp"
#include "libmailstore/store.hpp"
#include "tests/chaparctl/ctl_runner.hpp"
#include "tests/support/test_dir.hpp"

namespace chapar::ctl {
namespace {

namespace fs = std::filesystem;
using test::run_ctl;

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

std::string private_key_pem(const char* algorithm) {
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      std::string_view(algorithm) == "RSA"
          ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})
          : EVP_PKEY_Q_keygen(nullptr, nullptr, algorithm));
  REQUIRE(key);
  BIO* bio = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(length));
  BIO_free(bio);
  return pem;
}

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

config::Config parse_config(std::string_view text) {
  auto config = config::parse(text, "/etc/chapar/chapar.toml");
  REQUIRE_MESSAGE(config, (config ? "" : config.error().message));
  return *config;
}

constexpr std::string_view kEveryListener = R"([server]
hostname = "mail.example.org"
[tls]
certificate = "/etc/letsencrypt/live/mail.example.org/fullchain.pem"
key = "/etc/letsencrypt/live/mail.example.org/privkey.pem"
[[smtpd.listeners]]
name = "smtp"
address = "::"
[[smtpd.listeners]]
name = "submission"
address = "::"
[[smtpd.listeners]]
name = "submissions"
address = "::"
[[pop3d.listeners]]
name = "pop3"
address = "0.0.0.0"
[[pop3d.listeners]]
name = "pop3s"
address = "0.0.0.0"
port = 1995
[[imapd.listeners]]
name = "imap"
address = "::"
[[imapd.listeners]]
name = "imaps"
address = "::"
)";

}  // namespace

TEST_CASE("TXT values are split into quoted strings of at most 255 octets") {
  CHECK(txt_strings("v=spf1 mx -all") == "\"v=spf1 mx -all\"");
  CHECK(txt_strings("say \"hi\"\\") == "\"say \\\"hi\\\"\\\\\"");
  std::string long_value(600, 'k');
  std::string quoted = txt_strings(long_value);
  CHECK(quoted == "\"" + std::string(255, 'k') + "\" \"" + std::string(255, 'k') + "\" \"" +
                      std::string(90, 'k') + "\"");
}

TEST_CASE("SRV services follow the listeners: implicit TLS first, absent ones not offered") {
  config::Config every = parse_config(kEveryListener);
  auto services = srv_services(every);
  REQUIRE(services.size() == 6);
  CHECK(services[0].label == "_submissions._tcp");
  CHECK(services[0].port == 465);
  CHECK(services[0].priority == 0);
  CHECK(services[1].label == "_submission._tcp");
  CHECK(services[1].port == 587);
  CHECK(services[1].priority > services[0].priority);
  CHECK(services[2].label == "_imaps._tcp");
  CHECK(services[2].port == 993);
  CHECK(services[3].label == "_imap._tcp");
  CHECK(services[3].port == 143);
  CHECK(services[4].label == "_pop3s._tcp");
  CHECK(services[4].port == 1995);
  CHECK(services[5].label == "_pop3._tcp");
  CHECK(services[5].port == 110);
  CHECK(services[3].priority > services[2].priority);
  CHECK(services[4].priority > services[3].priority);

  config::Config few = parse_config(R"([tls]
certificate = "/srv/cert.pem"
key = "/srv/key.pem"
[[imapd.listeners]]
name = "imaps"
address = "::"
[[smtpd.listeners]]
name = "submissions"
address = "127.0.0.1"
)");
  services = srv_services(few);
  CHECK(services[0].offered() == false);  // loopback only
  CHECK(services[1].offered() == false);
  CHECK(services[2].offered());
  for (size_t i = 3; i < services.size(); ++i) CHECK(services[i].offered() == false);
}

TEST_CASE("the zone has MX, SPF, DMARC, DKIM and SRV records with absolute names") {
  ZonePlan plan{"example.org",
                "mail.example.org",
                srv_services(parse_config(kEveryListener)),
                {{"chapar1", "v=DKIM1; k=ed25519; p=AAAA"}},
                ""};
  plan.services[5].port = 0;
  std::string zone = render_zone(plan);
  auto has_record = [&](std::string_view owner, std::string_view type, std::string_view data) {
    std::istringstream lines(zone);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream fields(line);
      std::string name, ttl, in, kind;
      fields >> name >> ttl >> in >> kind;
      std::string rest;
      std::getline(fields, rest);
      rest.erase(0, rest.find_first_not_of(' '));
      if (name == owner && in == "IN" && kind == type && rest == data) return true;
    }
    return false;
  };
  CHECK(has_record("example.org.", "MX", "10 mail.example.org."));
  CHECK(has_record("example.org.", "TXT", "\"v=spf1 mx -all\""));
  CHECK(has_record("_dmarc.example.org.", "TXT",
                   "\"v=DMARC1; p=quarantine; rua=mailto:postmaster@example.org\""));
  CHECK(has_record("chapar1._domainkey.example.org.", "TXT", "\"v=DKIM1; k=ed25519; p=AAAA\""));
  CHECK(has_record("_submissions._tcp.example.org.", "SRV", "0 1 465 mail.example.org."));
  CHECK(has_record("_imaps._tcp.example.org.", "SRV", "0 1 993 mail.example.org."));
  CHECK(has_record("_pop3s._tcp.example.org.", "SRV", "20 1 1995 mail.example.org."));
  CHECK(has_record("_pop3._tcp.example.org.", "SRV", "0 0 0 ."));
  // Every line is a comment, empty, or a record.
  std::istringstream lines(zone);
  for (std::string line; std::getline(lines, line);) {
    CHECK((line.empty() || line[0] == ';' || line.find(" 3600 IN ") != std::string::npos));
  }

  plan.dkim.clear();
  plan.dkim_note = "no key";
  CHECK(render_zone(plan).find("; none: no key\n") != std::string::npos);
}

TEST_CASE("retargeting sets server.hostname and follows Let's Encrypt paths, keeping comments") {
  const std::string packaged = R"(# the configuration
[server]
# the name
hostname = "mail.example.org"
user = "chapar"

[tls]
certificate = "/etc/letsencrypt/live/mail.example.org/fullchain.pem"
key = "/etc/letsencrypt/live/mail.example.org/privkey.pem"

[[imapd.listeners]]
name = "imaps"
)";
  auto changed = retarget_config(packaged, "mx.example.net", "/etc/chapar/chapar.toml");
  REQUIRE_MESSAGE(changed, (changed ? "" : changed.error().message));
  config::Config config = parse_config(*changed);
  CHECK(config.server.hostname == "mx.example.net");
  CHECK(config.server.user == "chapar");
  CHECK(config.tls.certificate == "/etc/letsencrypt/live/mx.example.net/fullchain.pem");
  CHECK(config.tls.key == "/etc/letsencrypt/live/mx.example.net/privkey.pem");
  CHECK(changed->find("# the configuration\n") == 0);
  CHECK(changed->find("# the name\n") != std::string::npos);

  auto other_paths = retarget_config(
      "[tls]\ncertificate = \"/srv/cert.pem\"\nkey = \"/srv/key.pem\"\n[server]\nuser = \"\"\n",
      "mx.example.net", "/etc/chapar/chapar.toml");
  REQUIRE(other_paths);
  config = parse_config(*other_paths);
  CHECK(config.server.hostname == "mx.example.net");
  CHECK(config.tls.certificate == "/srv/cert.pem");

  auto no_server = retarget_config("[store]\ndata_dir = \"/srv/mail\"\n", "mx.example.net",
                                   "/etc/chapar/chapar.toml");
  REQUIRE(no_server);
  CHECK(parse_config(*no_server).server.hostname == "mx.example.net");
  CHECK(parse_config(*no_server).store.data_dir == "/srv/mail");

  CHECK_FALSE(retarget_config("[server]\nbogus = 1\n", "mx.example.net", "/x.toml"));
}

TEST_CASE("DKIM records carry the public key of RSA and Ed25519 private keys") {
  auto rsa = dkim_public_key("s1", private_key_pem("RSA"));
  REQUIRE_MESSAGE(rsa, (rsa ? "" : rsa.error().message));
  CHECK(rsa->selector == "s1");
  const std::string rsa_prefix = "v=DKIM1; k=rsa; p=";
  REQUIRE(rsa->record.rfind(rsa_prefix, 0) == 0);
  auto der = text::base64_decode(rsa->record.substr(rsa_prefix.size()));
  REQUIRE(der);
  const auto* bytes = reinterpret_cast<const unsigned char*>(der->data());
  std::unique_ptr<EVP_PKEY, PkeyFree> parsed(
      d2i_PUBKEY(nullptr, &bytes, static_cast<long>(der->size())));
  REQUIRE(parsed);
  CHECK(EVP_PKEY_is_a(parsed.get(), "RSA"));

  auto ed = dkim_public_key("s2", private_key_pem("ED25519"));
  REQUIRE(ed);
  const std::string ed_prefix = "v=DKIM1; k=ed25519; p=";
  REQUIRE(ed->record.rfind(ed_prefix, 0) == 0);
  auto raw = text::base64_decode(ed->record.substr(ed_prefix.size()));
  REQUIRE(raw);
  CHECK(raw->size() == 32);  // RFC 8463 §4.2

  CHECK_FALSE(dkim_public_key("s3", "not a key"));
}

TEST_CASE("DKIM keys are read from the selector file and the key files beside it") {
  chapar::test::TestDir dir;
  auto none = read_dkim_keys(dir.path(), "example.org");
  REQUIRE(none);
  CHECK(none->empty());

  write_file(dir / "example.org.selector", "k1\n\nk2\n");
  write_file(dir / "example.org.k1.key", private_key_pem("ED25519"));
  write_file(dir / "example.org.k2.key", private_key_pem("ED25519"));
  auto keys = read_dkim_keys(dir.path(), "example.org");
  REQUIRE_MESSAGE(keys, (keys ? "" : keys.error().message));
  REQUIRE(keys->size() == 2);
  CHECK((*keys)[0].selector == "k1");
  CHECK((*keys)[1].selector == "k2");

  write_file(dir / "example.org.k2.key", "garbage");
  auto broken = read_dkim_keys(dir.path(), "example.org");
  REQUIRE_FALSE(broken);
  CHECK(broken.error().message.find("example.org.k2.key") != std::string::npos);
}

TEST_CASE("quickstart sets up the domain and postmaster once, and prints the records") {
  chapar::test::TestDir dir;
  auto init = run_ctl({"init", "--dir", dir.path().string(), "--hostname", "mail.example.test"});
  REQUIRE_MESSAGE(init.status == 0, init.err);
  const std::string config_path = (dir / "chapar.toml").string();

  auto first = run_ctl({"--config", config_path, "quickstart", "--domain", "Example.TEST",
                        "--hostname", "mx.example.test"});
  REQUIRE_MESSAGE(first.status == 0, first.err);
  CHECK(first.out.find("password of postmaster@example.test (shown only now): ") !=
        std::string::npos);
  CHECK(first.out.find("example.test.                            3600 IN MX    10 "
                       "mx.example.test.") != std::string::npos);
  CHECK(first.out.find("_dmarc.example.test.") != std::string::npos);
  CHECK(first.out.find("_imaps._tcp.example.test.") != std::string::npos);
  CHECK(read_file(config_path).find("hostname = \"mx.example.test\"") != std::string::npos);

  auto store = store::Store::open({.data_dir = dir / "data"});
  REQUIRE(store);
  CHECK((*store)->find_account("postmaster@example.test"));
  auto domains = (*store)->list_domains();
  REQUIRE(domains);
  CHECK(domains->size() == 1);

  auto again = run_ctl({"--config", config_path, "quickstart", "--domain", "example.test"});
  REQUIRE_MESSAGE(again.status == 0, again.err);
  CHECK(again.out.find("password is unchanged") != std::string::npos);
  CHECK(again.out.find("shown only now") == std::string::npos);
  CHECK(again.out.find("10 mx.example.test.") != std::string::npos);

  auto missing = run_ctl({"--config", config_path, "quickstart"});
  CHECK(missing.status == 64);
  auto bad = run_ctl({"--config", config_path, "quickstart", "--domain", "not a domain"});
  CHECK(bad.status == 65);
  CHECK(test::is_one_error_line(bad.err));
}

}  // namespace chapar::ctl
