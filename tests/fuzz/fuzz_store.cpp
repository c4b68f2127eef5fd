// SPDX-License-Identifier: AGPL-3.0-or-later
#include "tests/fuzz/fuzz_store.hpp"

#include <crypt.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>
#include <vector>

#include "common/log.hpp"

namespace chapar::fuzz {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "fuzz store: %s\n", what.c_str());
  std::abort();
}

template <typename T>
T check(Result<T> result, const char* what) {
  if (!result) die(std::string(what) + ": " + result.error().message);
  return std::move(*result);
}

void check(const Status& status, const char* what) {
  if (!status) die(std::string(what) + ": " + status.error().message);
}

// SHA-256 crypt with the fewest rounds allowed: the real verification path, fast enough
// for thousands of logins a second.
std::string quick_hash(const char* password) {
  struct crypt_data data {};
  const char* hash = crypt_r(password, "$5$rounds=1000$chaparfuzzsalt$", &data);
  if (hash == nullptr || hash[0] != '$') die("crypt_r failed");
  return hash;
}

const std::vector<std::string>& template_messages() {
  static const std::vector<std::string> messages = {
      "From: Ann <a@example.net>\r\nTo: alice@example.org\r\nSubject: one\r\n"
      "Date: Fri, 1 Mar 2024 12:00:00 +0000\r\nMessage-ID: <1@example.net>\r\n\r\n"
      "Hello Alice.\r\n",
      "From: a@example.net\r\nTo: alice@example.org\r\nSubject: dots\r\n\r\n"
      ".leading dot\r\n..two dots\r\n.\r\nafter a lone dot\r\n",
      "From: a@example.net\r\nTo: alice@example.org, \"B\" <b@example.net>\r\n"
      "Cc: group: c@example.net, d@example.net;\r\nSubject: =?UTF-8?B?w6l0w6k=?=\r\n"
      "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"xx\"\r\n\r\n"
      "preamble\r\n--xx\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n"
      "--xx\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@example.net\r\nSubject: inner\r\n"
      "\r\ninner body\r\n--xx\r\nContent-Type: application/octet-stream\r\n"
      "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=a.bin\r\n"
      "\r\nAAECAwQFBgc=\r\n--xx--\r\nepilogue\r\n",
  };
  return messages;
}

fs::path make_root() {
  std::error_code ec;
  fs::path base = "/dev/shm";
  if (access(base.c_str(), W_OK) != 0) base = fs::temp_directory_path(ec);
  std::string pattern = (base / "chapar-fuzz-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) die("mkdtemp failed");
  return pattern;
}

}  // namespace

config::Config fuzz_config() {
  config::Config c;
  c.server.hostname = "mail.example.org";
  c.auth.failure_delay = std::chrono::milliseconds(1);
  c.auth.max_failure_delay = std::chrono::milliseconds(4);
  c.smtpd.max_message_size = 64 * 1024;
  c.smtpd.max_recipients = 8;
  c.smtpd.max_messages_per_connection = 4;
  c.smtpd.max_line_length = 512;
  c.smtpd.max_errors = 20;
  c.pop3d.max_line_length = 255;
  c.imapd.max_command_length = 8 * 1024;
  c.imapd.max_literal_size = 64 * 1024;
  return c;
}

FuzzStore::FuzzStore() : root_(make_root()), config_(fuzz_config()) {
  log::set_level(log::Level::kError);
  fs::path tmpl = root_ / "template";
  auto made = check(store::Store::open(store::StoreOptions{tmpl, true}), "template store");
  store::Store& s = *made;
  std::string hash = quick_hash(kPassword);
  check(s.add_domain_sync("example.org"), "add domain");
  store::AccountId alice = check(s.add_account_sync(kAlice, hash), "add alice");
  check(s.add_account_sync(kBob, hash, 64 * 1024), "add bob");
  check(s.add_account_sync(kCarol, hash), "add carol");
  check(s.set_disabled_sync(kCarol, true), "disable carol");
  check(s.add_alias_sync("postmaster@example.org", kAlice), "add alias");
  for (const std::string& content : template_messages()) {
    auto prepared = check(store::Store::prepare(store::Spool::from_string(content)), "prepare");
    store::Delivery delivery;
    delivery.message = std::move(prepared);
    delivery.sender = "a@example.net";
    delivery.local = {alice};
    delivery.internal_date = 1709294400;
    check(s.deliver_sync(std::move(delivery)), "deliver");
  }
  made.reset();
  config_.store.data_dir = root_ / "data";
}

FuzzStore::~FuzzStore() {
  close();
  std::error_code ec;
  fs::remove_all(root_, ec);
}

void FuzzStore::close() {
  throttle_.reset();
  store_.reset();
}

void FuzzStore::reset() {
  close();
  fs::path data = config_.store.data_dir;
  std::error_code ec;
  fs::remove_all(data, ec);
  fs::create_directories(data);
  for (const char* name : {"chapar.db", "chapar.db-wal"}) {
    fs::path from = root_ / "template" / name;
    if (fs::exists(from)) fs::copy_file(from, data / name);
  }
  store_ = check(store::Store::open(store::StoreOptions{data, false}), "open store");
  throttle_ = check(auth::LoginThrottle::open(data, config_.auth), "open throttle");
}

}  // namespace chapar::fuzz
