// SPDX-License-Identifier: AGPL-3.0-or-later
// What the outbound client makes of hostile input: replies from a remote server (the reply
// reader and EHLO capabilities), DKIM canonicalisation and signing of a message with hostile
// header fields, and the delivery status notification built from both.
//
// Input: a mode byte, the server's replies, a NUL, then the message. Checked promises: the
// DKIM-Signature field and the DSN are CRLF text whatever went in (no bare LF, so nothing
// from the input can smuggle a header line), and the DSN parses as a multipart/report.
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libmailstore/mime/structure.hpp"
#include "libmailstore/spool.hpp"
#include "smtpd/outbound/dkim_canon.hpp"
#include "smtpd/outbound/dkim_sign.hpp"
#include "smtpd/outbound/dsn.hpp"
#include "tests/fuzz/fuzz_promise.hpp"
#include "tests/fuzz/reply_checks.hpp"

namespace {

using namespace chapar;
using namespace chapar::smtp::outbound;

using fuzz::read_replies;
using fuzz::require;

bool has_bare_lf(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) return true;
  }
  return false;
}

DkimKey make_key(const char* algorithm, size_t bits) {
  EVP_PKEY* pkey = bits ? EVP_PKEY_Q_keygen(nullptr, nullptr, algorithm, bits)
                        : EVP_PKEY_Q_keygen(nullptr, nullptr, algorithm);
  require(pkey != nullptr, "a key can be made");
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> owned(pkey, EVP_PKEY_free);
  std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new(BIO_s_mem()), BIO_free);
  require(PEM_write_bio_PrivateKey(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr) == 1,
          "the key can be written");
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  auto key =
      DkimKey::from_pem(std::string_view(data, static_cast<size_t>(length)), "example.org", "sel");
  require(key.has_value(), "the key can be read");
  return std::move(*key);
}

const std::vector<DkimKey>& keys() {
  static const std::vector<DkimKey> made = [] {
    std::vector<DkimKey> out;
    out.push_back(make_key("ED25519", 0));
    out.push_back(make_key("RSA", 1024));
    return out;
  }();
  return made;
}

void check_dkim(std::string_view message, uint8_t mode) {
  size_t header_size = header_length(message);
  require(header_size <= message.size(), "the header lies inside the message");
  std::string_view header = message.substr(0, header_size);
  for (const HeaderField& field : split_header_fields(header)) {
    std::string relaxed = relaxed_header(field.raw);
    require(relaxed.size() >= 2 && relaxed.ends_with("\r\n"), "a relaxed field ends in CRLF");
  }
  BodyHasher hasher;
  std::string_view body = message.substr(header_size);
  size_t chunk = (mode >> 3) + 1;
  for (size_t offset = 0; offset < body.size(); offset += chunk) {
    hasher.update(body.substr(offset, chunk));
  }
  std::string body_hash = hasher.finish();
  const DkimKey& key = keys()[(mode >> 1) & 1];
  auto signature = dkim_signature(key, header, body_hash, 1709294400);
  if (signature) {
    require(signature->starts_with("DKIM-Signature:"), "the field is a DKIM-Signature");
    require(signature->ends_with("\r\n") && !has_bare_lf(*signature),
            "the DKIM-Signature field is CRLF text");
  }
  (void)is_valid_selector(header.substr(0, 64));
}

void check_dsn(std::string_view message, const std::vector<ServerReply>& replies, uint8_t mode) {
  MessageSource original;
  original.size = message.size();
  original.read = [message](uint64_t offset, size_t length) -> Result<std::string> {
    if (offset >= message.size()) return std::string();
    return std::string(message.substr(offset, length));
  };
  auto header = read_header_block(original, 64 * 1024);
  std::string to = header ? header_value(*header, "To") : std::string();

  DsnReport report;
  report.reporting_mta = "mail.example.org";
  report.sender = "sender@example.org";
  report.envid = header ? header_value(*header, "Message-ID") : std::string();
  report.arrival_date = 1709294400;
  report.now = 1709294400 + 3600;
  report.retry_until = report.now + 86400;
  report.return_full = (mode & 4) != 0;
  report.boundary = "=_chapar_fuzz_boundary";
  report.message_id = "<dsn@mail.example.org>";
  DsnAction action = (mode & 8) ? DsnAction::kDelayed : DsnAction::kFailed;
  for (const ServerReply& reply : replies) {
    DsnRecipient r;
    r.address = to.empty() ? "rcpt@example.net" : to;
    r.orcpt = "rfc822;" + r.address;
    r.action = action;
    r.status = reply.status();
    r.reply = reply.text();
    r.remote = true;
    r.remote_mta = "mx.example.net";
    report.recipients.push_back(std::move(r));
    if (report.recipients.size() == 8) break;
  }
  if (report.recipients.empty()) {
    DsnRecipient r;
    r.address = "rcpt@example.net";
    r.status = "4.4.1";
    r.reply = "connection refused";
    report.recipients.push_back(std::move(r));
  }
  store::Spool out("/nonexistent", SIZE_MAX);
  if (!compose_dsn(report, original, out)) return;
  require(out.finish().has_value(), "the spool finishes");
  std::string_view dsn = out.view();
  require(!has_bare_lf(dsn), "the DSN is CRLF text");
  mime::MessageStructure structure = mime::parse_message(dsn);
  require(structure.root.is_multipart() && structure.root.children.size() >= 2,
          "the DSN is a multipart/report with its parts");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint8_t mode = data[0];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  size_t nul = input.find('\0');
  std::string_view replies_text = input.substr(0, nul);
  std::string_view raw = nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);
  // Queued messages are stored with CRLF line ends, as the store keeps every message.
  std::string message = mime::normalize_line_endings(raw);

  std::vector<ServerReply> replies = read_replies(replies_text, mode);
  check_dkim(message, mode);
  check_dsn(message, replies, mode);
  return 0;
}
