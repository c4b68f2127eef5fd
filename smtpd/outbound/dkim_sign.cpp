// SPDX-License-Identifier: AGPL-3.0-or-later
#include "smtpd/outbound/dkim_sign.hpp"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <fstream>
#include <sstream>
#include <system_error>

#include "common/text/ascii.hpp"
#include "common/text/base64.hpp"
#include "smtpd/outbound/dkim_canon.hpp"

namespace chapar::smtp::outbound {
namespace {

constexpr size_t kFoldWidth = 72;

Result<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::kIo, fmt::format("cannot read {}", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Appends `piece` to the field, starting a continuation line first when the current line
// would grow past the fold width.
void append_folded(std::string& field, size_t& line_length, std::string_view piece,
                   std::string_view separator) {
  if (line_length + separator.size() + piece.size() > kFoldWidth) {
    if (separator != " ") field += separator;  // a list separator stays; a space folds
    field += "\r\n\t";
    line_length = 1;
  } else {
    field += separator;
    line_length += separator.size();
  }
  field += piece;
  line_length += piece.size();
}

}  // namespace

bool is_valid_selector(std::string_view name) {
  if (name.empty() || name.size() > 63 || name.front() == '.' || name.back() == '.') {
    return false;
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return name.find("..") == std::string_view::npos;
}

Result<DkimKey> DkimKey::from_pem(std::string_view pem, std::string domain, std::string selector) {
  std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                          BIO_free);
  if (!bio) return fail(Errc::kInternal, "out of memory");
  DkimKey key;
  key.key_.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key.key_) return fail(Errc::kInvalidArgument, "not a PEM private key");
  switch (EVP_PKEY_get_base_id(key.key_.get())) {
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(key.key_.get()) < 1024) {
        return fail(Errc::kInvalidArgument, "RSA keys for DKIM need at least 1024 bits");
      }
      key.algorithm_ = DkimAlgorithm::kRsaSha256;
      break;
    case EVP_PKEY_ED25519:
      key.algorithm_ = DkimAlgorithm::kEd25519Sha256;
      break;
    default:
      return fail(Errc::kInvalidArgument, "DKIM keys are RSA or Ed25519");
  }
  key.domain_ = std::move(domain);
  key.selector_ = std::move(selector);
  return key;
}

Result<std::vector<DkimKey>> load_dkim_keys(const std::filesystem::path& dir,
                                            std::string_view domain) {
  std::vector<DkimKey> keys;
  std::string name = text::ascii_lowercase(domain);
  if (name.empty() || name.find('/') != std::string::npos || name.front() == '.') return keys;
  std::filesystem::path list = dir / (name + ".selector");
  std::error_code ec;
  if (!std::filesystem::exists(list, ec)) return keys;
  auto selectors = read_file(list);
  if (!selectors) return Unexpected{selectors.error()};
  std::istringstream lines(*selectors);
  std::string line;
  while (std::getline(lines, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    size_t start = line.find_first_not_of(' ');
    if (start == std::string::npos) continue;
    std::string selector = line.substr(start);
    if (!is_valid_selector(selector)) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("{}: bad selector '{}'", list.string(), selector));
    }
    std::filesystem::path file = dir / fmt::format("{}.{}.key", name, selector);
    auto pem = read_file(file);
    if (!pem) return Unexpected{pem.error()};
    auto key = DkimKey::from_pem(*pem, name, selector);
    if (!key) {
      return fail(key.error().code, fmt::format("{}: {}", file.string(), key.error().message));
    }
    keys.push_back(std::move(*key));
  }
  return keys;
}

Result<std::string> dkim_signature(const DkimKey& key, std::string_view header,
                                   std::string_view body_hash, int64_t time) {
  // RFC 6376 §5.4.2: each listed name takes the next instance from the bottom; a name listed
  // more often than it occurs signs "no such field" for the extra ones.
  std::vector<HeaderField> fields = split_header_fields(header);
  std::vector<bool> used(fields.size(), false);
  std::vector<std::string> names;
  std::string signed_data;
  auto take = [&](std::string_view name) {
    for (size_t i = fields.size(); i-- > 0;) {
      if (!used[i] && text::iequals(fields[i].name, name)) {
        used[i] = true;
        signed_data += relaxed_header(fields[i].raw);
        return true;
      }
    }
    return false;
  };
  for (std::string_view name : kDkimSignedFields) {
    while (take(name)) names.push_back(text::ascii_lowercase(name));
  }
  names.insert(names.begin(), "from");  // oversigned

  std::string field = "DKIM-Signature:";
  size_t line_length = field.size();
  const char* algorithm =
      key.algorithm() == DkimAlgorithm::kRsaSha256 ? "rsa-sha256" : "ed25519-sha256";
  for (const std::string& tag :
       {std::string("v=1;"), fmt::format("a={};", algorithm), std::string("c=relaxed/relaxed;"),
        fmt::format("d={};", key.domain()), fmt::format("s={};", key.selector()),
        fmt::format("t={};", time)}) {
    append_folded(field, line_length, tag, " ");
  }
  for (size_t i = 0; i < names.size(); ++i) {
    std::string piece = (i == 0 ? "h=" : "") + names[i] + (i + 1 == names.size() ? ";" : "");
    append_folded(field, line_length, piece, i == 0 ? " " : ":");
  }
  append_folded(field, line_length, fmt::format("bh={};", body_hash), " ");
  append_folded(field, line_length, "b=", " ");

  // RFC 6376 §3.7: the signature field itself, with an empty b= and no final CRLF, ends the
  // signed data.
  std::string own = relaxed_header(field);
  own.resize(own.size() - 2);
  signed_data += own;

  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx) return fail(Errc::kInternal, "out of memory");
  std::string input;
  const EVP_MD* md = nullptr;
  if (key.algorithm() == DkimAlgorithm::kRsaSha256) {
    md = EVP_sha256();
    input = std::move(signed_data);
  } else {
    // RFC 8463 §3: Ed25519 (PureEdDSA) over the SHA-256 hash of the signed data.
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(signed_data.data()), signed_data.size(), digest);
    input.assign(reinterpret_cast<const char*>(digest), sizeof digest);
  }
  if (EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key.native()) != 1) {
    return fail(Errc::kInternal, "DKIM signing could not start");
  }
  size_t length = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(input.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &length, data, input.size()) != 1) {
    return fail(Errc::kInternal, "DKIM signing failed");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, data,
                     input.size()) != 1) {
    return fail(Errc::kInternal, "DKIM signing failed");
  }
  signature.resize(length);
  std::string b = text::base64_encode(signature);
  // The b= value may be folded anywhere (RFC 6376 §3.5: whitespace in it is ignored).
  for (size_t pos = 0; pos < b.size();) {
    size_t room = line_length < kFoldWidth ? kFoldWidth - line_length : 0;
    if (room == 0) {
      field += "\r\n\t";
      line_length = 1;
      continue;
    }
    size_t n = std::min(room, b.size() - pos);
    field.append(b, pos, n);
    line_length += n;
    pos += n;
  }
  field += "\r\n";
  return field;
}

}  // namespace chapar::smtp::outbound
