// SPDX-License-Identifier: AGPL-3.0-or-later
#include "tests/fuzz/fuzz_store.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>
#include <vector>

#include "common/log.hpp"
#include "tests/support/template_store.hpp"

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

// A domain, alice with the messages, bob with a small quota, carol disabled, an alias.
Status fill_template(store::Store& s) {
  auto hash = test::quick_hash(kPassword);
  if (!hash) return Unexpected{hash.error()};
  if (auto domain = s.add_domain_sync("example.org"); !domain) return Unexpected{domain.error()};
  auto alice = s.add_account_sync(kAlice, *hash);
  if (!alice) return Unexpected{alice.error()};
  if (auto bob = s.add_account_sync(kBob, *hash, 64 * 1024); !bob) return Unexpected{bob.error()};
  if (auto carol = s.add_account_sync(kCarol, *hash); !carol) return Unexpected{carol.error()};
  if (Status st = s.set_disabled_sync(kCarol, true); !st) return st;
  if (Status st = s.add_alias_sync("postmaster@example.org", kAlice); !st) return st;
  for (const std::string& content : template_messages()) {
    if (Status st = test::deliver(s, *alice, content); !st) return st;
  }
  return {};
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
  check(test::make_template(root_ / "template", fill_template), "template store");
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
  store_ = check(test::open_copy(root_ / "template", config_.store.data_dir), "open store");
  throttle_ =
      check(auth::LoginThrottle::open(config_.store.data_dir, config_.auth), "open throttle");
}

}  // namespace chapar::fuzz
