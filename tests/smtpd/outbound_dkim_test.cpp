// SPDX-License-Identifier: AGPL-3.0-or-later
// DKIM: canonicalisation vectors (RFC 6376 §3.4.5), the signed example of RFC 8463 §A.3
// verified with our canonicalisation (both its Ed25519 and its RSA signature), and our own
// signatures verified the same way. python3-dkim checks them independently in
// tests/integration/test_outbound_dkim.py.
#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/text/ascii.hpp"
#include "common/text/base64.hpp"
#include "libmailstore/store.hpp"
#include "smtpd/outbound/dkim_canon.hpp"
#include "smtpd/outbound/dkim_sign.hpp"
#include "smtpd/outbound/prepare.hpp"
#include "tests/support/test_dir.hpp"

namespace chapar::smtp::outbound::test {
namespace {

using KeyPtr = std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)>;

std::string relaxed_body(std::string_view body) {
  RelaxedBody canon;
  std::string out;
  canon.feed(body, out);
  canon.finish(out);
  return out;
}

std::string strip_spaces(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') out.push_back(c);
  }
  return out;
}

// The tags of a DKIM-Signature field value.
std::map<std::string, std::string> tags_of(std::string_view raw_field) {
  std::map<std::string, std::string> tags;
  std::string_view value = raw_field.substr(raw_field.find(':') + 1);
  while (!value.empty()) {
    size_t semicolon = value.find(';');
    std::string_view tag = value.substr(0, semicolon);
    size_t equals = tag.find('=');
    if (equals != std::string_view::npos) {
      tags[strip_spaces(tag.substr(0, equals))] = std::string(tag.substr(equals + 1));
    }
    if (semicolon == std::string_view::npos) break;
    value.remove_prefix(semicolon + 1);
  }
  return tags;
}

// The signature field with the value of its b= tag removed (RFC 6376 §3.7).
std::string without_b_value(std::string_view raw_field) {
  std::string out(raw_field);
  size_t pos = out.find(':') + 1;
  while (pos < out.size()) {
    size_t start = pos;
    while (start < out.size() &&
           (out[start] == ' ' || out[start] == '\t' || out[start] == '\r' || out[start] == '\n')) {
      ++start;
    }
    size_t end = out.find(';', start);
    if (out.compare(start, 2, "b=") == 0) {
      size_t stop = end == std::string::npos ? out.size() - 2 : end;  // keep the final CRLF
      out.erase(start + 2, stop - start - 2);
      break;
    }
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return out;
}

// Verifies the first DKIM-Signature of `message` with `key`, relaxed/relaxed only.
bool verify(std::string_view message, EVP_PKEY* key) {
  size_t header_end = header_length(message);
  std::string_view header = message.substr(0, header_end);
  std::vector<HeaderField> fields = split_header_fields(header);
  const HeaderField* signature = nullptr;
  for (const HeaderField& f : fields) {
    if (text::iequals(f.name, "DKIM-Signature")) {
      signature = &f;
      break;
    }
  }
  REQUIRE(signature != nullptr);
  auto tags = tags_of(signature->raw);
  REQUIRE(strip_spaces(tags["c"]) == "relaxed/relaxed");
  BodyHasher body;
  body.update(message.substr(header_end));
  if (body.finish() != strip_spaces(tags["bh"])) return false;

  std::string data;
  std::vector<bool> used(fields.size(), false);
  std::string names = strip_spaces(tags["h"]);
  for (size_t pos = 0; pos <= names.size();) {
    size_t colon = names.find(':', pos);
    std::string name =
        names.substr(pos, colon == std::string::npos ? std::string::npos : colon - pos);
    for (size_t i = fields.size(); i-- > 0;) {
      if (!used[i] && text::iequals(fields[i].name, name)) {
        used[i] = true;
        data += relaxed_header(fields[i].raw);
        break;
      }
    }
    if (colon == std::string::npos) break;
    pos = colon + 1;
  }
  std::string own = relaxed_header(without_b_value(signature->raw));
  data += own.substr(0, own.size() - 2);

  auto b = text::base64_decode(strip_spaces(tags["b"]));
  REQUIRE(b.has_value());
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  bool ed25519 = strip_spaces(tags["a"]) == "ed25519-sha256";
  std::string input = data;
  if (ed25519) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
    input.assign(reinterpret_cast<const char*>(digest), sizeof digest);
  }
  REQUIRE(EVP_DigestVerifyInit(ctx.get(), nullptr, ed25519 ? nullptr : EVP_sha256(), nullptr,
                               key) == 1);
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(b->data()), b->size(),
                          reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
}

// RFC 8463 §A.1 and §A.2.
constexpr const char* kEd25519Secret = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
constexpr const char* kEd25519Public = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
constexpr const char* kRsaPem =
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIICXQIBAAKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQi\n"
    "Y/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqM\n"
    "KrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB\n"
    "AoGAH0cxOhFZDgzXWhDhnAJDw5s4roOXN4OhjiXa8W7Y3rhX3FJqmJSPuC8N9vQm\n"
    "6SVbaLAE4SG5mLMueHlh4KXffEpuLEiNp9Ss3O4YfLiQpbRqE7Tm5SxKjvvQoZZe\n"
    "zHorimOaChRL2it47iuWxzxSiRMv4c+j70GiWdxXnxe4UoECQQDzJB/0U58W7RZy\n"
    "6enGVj2kWF732CoWFZWzi1FicudrBFoy63QwcowpoCazKtvZGMNlPWnC7x/6o8Gc\n"
    "uSe0ga2xAkEA8C7PipPm1/1fTRQvj1o/dDmZp243044ZNyxjg+/OPN0oWCbXIGxy\n"
    "WvmZbXriOWoSALJTjExEgraHEgnXssuk7QJBALl5ICsYMu6hMxO73gnfNayNgPxd\n"
    "WFV6Z7ULnKyV7HSVYF0hgYOHjeYe9gaMtiJYoo0zGN+L3AAtNP9huqkWlzECQE1a\n"
    "licIeVlo1e+qJ6Mgqr0Q7Aa7falZ448ccbSFYEPD6oFxiOl9Y9se9iYHZKKfIcst\n"
    "o7DUw1/hz2Ck4N5JrgUCQQCyKveNvjzkkd8HjYs0SwM0fPjK16//5qDZ2UiDGnOe\n"
    "uEzxBDAr518Z8VFbR41in3W4Y3yCDgQlLlcETrS+zYcL\n"
    "-----END RSA PRIVATE KEY-----\n";

constexpr const char* kRfcHeader =
    "From: Joe SixPack <joe@football.example.com>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: Is dinner ready?\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
    "\r\n";
constexpr const char* kRfcBody =
    "Hi.\r\n\r\nWe lost the game.  Are you hungry yet?\r\n\r\nJoe.\r\n\r\n";

KeyPtr ed25519_public() {
  auto raw = text::base64_decode(kEd25519Public);
  return KeyPtr(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                  reinterpret_cast<const unsigned char*>(raw->data()), raw->size()),
      EVP_PKEY_free);
}

KeyPtr rsa_private() {
  std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new_mem_buf(kRsaPem, -1), BIO_free);
  return KeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
}

std::string ed25519_pem() {
  auto raw = text::base64_decode(kEd25519Secret);
  KeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr,
                                          reinterpret_cast<const unsigned char*>(raw->data()),
                                          raw->size()),
             EVP_PKEY_free);
  std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new(BIO_s_mem()), BIO_free);
  PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

std::string body_hash(std::string_view body) {
  BodyHasher hasher;
  hasher.update(body);
  return hasher.finish();
}

}  // namespace

TEST_CASE("relaxed canonicalisation: the example of RFC 6376 §3.4.5") {
  std::string header = "A: X\r\nB : Y\t\r\n\tZ  \r\n\r\n";
  std::vector<HeaderField> fields = split_header_fields(header);
  REQUIRE(fields.size() == 2);
  CHECK(fields[1].name == "B");
  CHECK(relaxed_header(fields[0].raw) == "a:X\r\n");
  CHECK(relaxed_header(fields[1].raw) == "b:Y Z\r\n");
  CHECK(relaxed_body(" C \r\nD \t E\r\n\r\n\r\n") == " C\r\nD E\r\n");
}

TEST_CASE("relaxed body: empty bodies, trailing lines, lone CR, any split") {
  CHECK(relaxed_body("").empty());
  CHECK(relaxed_body("\r\n\r\n").empty());
  CHECK(relaxed_body("x") == "x\r\n");
  CHECK(relaxed_body("a\r\n\r\nb  \r\n \r\n") == "a\r\n\r\nb\r\n");
  CHECK(relaxed_body("a\rb\r\n") == "a\rb\r\n");
  // RFC 6376 §3.4.4: the empty body's hash is that of the empty string.
  CHECK(body_hash("") == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  std::string body = " lead\t\tand  inner \r\n\r\n.\r\nend \t\r\n\r\n";
  std::string whole = relaxed_body(body);
  for (size_t k = 0; k <= body.size(); ++k) {
    RelaxedBody canon;
    std::string out;
    canon.feed(body.substr(0, k), out);
    canon.feed(body.substr(k), out);
    canon.finish(out);
    CHECK(out == whole);
  }
}

TEST_CASE("the signed example of RFC 8463 verifies with our canonicalisation") {
  CHECK(body_hash(kRfcBody) == "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
  std::string ed25519_field =
      "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
      " d=football.example.com; i=@football.example.com;\r\n"
      " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
      " subject : date : message-id : from : subject : date;\r\n"
      " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
      " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
      " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n";
  std::string rsa_field =
      "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
      " d=football.example.com; i=@football.example.com;\r\n"
      " q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n"
      " date : message-id : from : subject : date;\r\n"
      " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
      " b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n"
      " DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n"
      " dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\r\n";
  CHECK(verify(ed25519_field + kRfcHeader + kRfcBody, ed25519_public().get()));
  CHECK(verify(rsa_field + kRfcHeader + kRfcBody, rsa_private().get()));
  // A changed subject breaks it.
  std::string tampered = ed25519_field + kRfcHeader + kRfcBody;
  tampered.replace(tampered.find("Is dinner"), 2, "Was");
  CHECK_FALSE(verify(tampered, ed25519_public().get()));
}

TEST_CASE("our signatures: rsa-sha256 and ed25519-sha256, From oversigned") {
  std::string header = std::string(kRfcHeader);
  header.insert(0, "Received: from somewhere\r\nCc: someone@example.net\r\n");
  std::string bh = body_hash(kRfcBody);

  auto rsa = DkimKey::from_pem(kRsaPem, "football.example.com", "test");
  REQUIRE(rsa.has_value());
  CHECK(rsa->algorithm() == DkimAlgorithm::kRsaSha256);
  auto signed_rsa = dkim_signature(*rsa, header, bh, 1700000000);
  REQUIRE(signed_rsa.has_value());
  std::string field = *signed_rsa;
  CHECK(field.find("a=rsa-sha256;") != std::string::npos);
  CHECK(field.find("d=football.example.com;") != std::string::npos);
  CHECK(field.find("s=test;") != std::string::npos);
  CHECK(field.find("t=1700000000;") != std::string::npos);
  CHECK(strip_spaces(tags_of(field)["h"]) == "from:from:to:cc:subject:date:message-id");
  for (size_t pos = 0, eol; (eol = field.find("\r\n", pos)) != std::string::npos; pos = eol + 2) {
    CHECK(eol - pos <= 78);
  }
  CHECK(verify(field + header + kRfcBody, rsa_private().get()));
  // A second From added later does not verify (oversigning, RFC 6376 §8.15).
  CHECK_FALSE(verify(
      field + header.substr(0, header.size() - 2) + "From: evil@example.net\r\n\r\n" + kRfcBody,
      rsa_private().get()));

  auto ed = DkimKey::from_pem(ed25519_pem(), "football.example.com", "brisbane");
  REQUIRE(ed.has_value());
  CHECK(ed->algorithm() == DkimAlgorithm::kEd25519Sha256);
  auto signed_ed = dkim_signature(*ed, header, bh, 1700000000);
  REQUIRE(signed_ed.has_value());
  CHECK(signed_ed->find("a=ed25519-sha256;") != std::string::npos);
  CHECK(verify(*signed_ed + header + kRfcBody, ed25519_public().get()));
  CHECK_FALSE(verify(*signed_ed + header + "Hi.\r\n", ed25519_public().get()));
}

TEST_CASE("keys come from DATA_DIR/dkim: the selector file names them") {
  chapar::test::TestDir dir;
  std::filesystem::path keys = dir / "dkim";
  std::filesystem::create_directories(keys);
  auto none = load_dkim_keys(keys, "example.org");
  REQUIRE(none.has_value());
  CHECK(none->empty());

  std::ofstream(keys / "example.org.r1.key") << kRsaPem;
  std::ofstream(keys / "example.org.e1.key") << ed25519_pem();
  std::ofstream(keys / "example.org.selector") << "r1\n\n  e1  \n";
  auto both = load_dkim_keys(keys, "Example.ORG");
  REQUIRE(both.has_value());
  REQUIRE(both->size() == 2);
  CHECK((*both)[0].selector() == "r1");
  CHECK((*both)[0].domain() == "example.org");
  CHECK((*both)[1].algorithm() == DkimAlgorithm::kEd25519Sha256);

  std::ofstream(keys / "example.org.selector") << "../escape\n";
  CHECK_FALSE(load_dkim_keys(keys, "example.org").has_value());
  std::ofstream(keys / "example.org.selector") << "missing\n";
  CHECK_FALSE(load_dkim_keys(keys, "example.org").has_value());
  CHECK_FALSE(DkimKey::from_pem("not a key", "d", "s").has_value());
  CHECK(is_valid_selector("s2024.mail"));
  CHECK_FALSE(is_valid_selector("a/b"));
  CHECK_FALSE(is_valid_selector(".hidden"));
}

TEST_CASE("a queued message leaves without its Return-Path, signed for its local domain") {
  chapar::test::TestDir dir;
  store::StoreOptions options;
  options.data_dir = dir / "data";
  options.create = true;
  auto opened = store::Store::open(options);
  REQUIRE(opened.has_value());
  store::Store& s = **opened;
  REQUIRE(s.add_domain_sync("football.example.com").has_value());
  std::string stored = std::string("Return-Path: <joe@football.example.com>\r\n") +
                       "Received: from client by mail.football.example.com\r\n" + kRfcHeader +
                       "Caf\xC3\xA9\r\n" + kRfcBody;
  auto prepared = store::Store::prepare(store::Spool::from_string(stored));
  REQUIRE(prepared.has_value());
  store::Delivery delivery;
  delivery.message = std::move(*prepared);
  delivery.sender = "joe@football.example.com";
  delivery.remote.push_back(store::QueueRecipient{"suzie@shopping.example.net", "", ""});
  auto receipt = s.deliver_sync(std::move(delivery));
  REQUIRE(receipt.has_value());
  std::string content = stored.substr(stored.find("Received:"));

  std::filesystem::path keys = dir / "data" / "dkim";
  PrepareOptions prepare{keys, 1700000000};
  // Without keys: unsigned, and the Return-Path stays home.
  auto plain = prepare_outbound(s, receipt->message, "joe@football.example.com", prepare);
  REQUIRE(plain.has_value());
  CHECK(plain->prefix.empty());
  CHECK(plain->eight_bit);
  MessageSource source = plain->source(s);
  CHECK(source.size == content.size());
  auto all = source.read(0, 1 << 20);
  REQUIRE(all.has_value());
  CHECK(*all == content);

  std::filesystem::create_directories(keys);
  std::ofstream(keys / "football.example.com.brisbane.key") << ed25519_pem();
  std::ofstream(keys / "football.example.com.test.key") << kRsaPem;
  std::ofstream(keys / "football.example.com.selector") << "brisbane\ntest\n";
  auto signed_message = prepare_outbound(s, receipt->message, "joe@football.example.com", prepare);
  REQUIRE(signed_message.has_value());
  CHECK(signed_message->signed_by == "football.example.com");
  MessageSource signed_source = signed_message->source(s);
  std::string sent;
  for (uint64_t at = 0; at < signed_source.size;) {
    auto chunk = signed_source.read(at, 100);  // reads that cross from signature to content
    REQUIRE(chunk.has_value());
    REQUIRE_FALSE(chunk->empty());
    sent += *chunk;
    at += chunk->size();
  }
  CHECK(sent.substr(sent.size() - content.size()) == content);
  // The RSA signature is first (added last); each verifies on the message as sent.
  CHECK(sent.find("a=rsa-sha256") < sent.find("a=ed25519-sha256"));
  CHECK(verify(sent, rsa_private().get()));
  size_t second = sent.find("DKIM-Signature:", 1);
  CHECK(verify(sent.substr(second), ed25519_public().get()));

  // The From domain signs even for another envelope sender; mail whose From and sender
  // are both elsewhere is not signed.
  auto forwarded = prepare_outbound(s, receipt->message, "bounces@elsewhere.example", prepare);
  REQUIRE(forwarded.has_value());
  CHECK(forwarded->signed_by == "football.example.com");
  std::string foreign = "From: someone@elsewhere.example\r\nSubject: x\r\n\r\nbody\r\n";
  auto foreign_prepared = store::Store::prepare(store::Spool::from_string(foreign));
  REQUIRE(foreign_prepared.has_value());
  store::Delivery other;
  other.message = std::move(*foreign_prepared);
  other.sender = "someone@elsewhere.example";
  other.remote.push_back(store::QueueRecipient{"suzie@shopping.example.net", "", ""});
  auto other_receipt = s.deliver_sync(std::move(other));
  REQUIRE(other_receipt.has_value());
  auto unsigned_message =
      prepare_outbound(s, other_receipt->message, "someone@elsewhere.example", prepare);
  REQUIRE(unsigned_message.has_value());
  CHECK(unsigned_message->prefix.empty());
  CHECK_FALSE(unsigned_message->eight_bit);
}

}  // namespace chapar::smtp::outbound::test
