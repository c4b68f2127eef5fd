// SPDX-License-Identifier: AGPL-3.0-or-later
// DKIM signatures (RFC 6376) with rsa-sha256 and ed25519-sha256 (RFC 8463), relaxed/relaxed.
//
// Keys live in the data directory's dkim/ folder, written by `chaparctl dkim generate`:
//   dkim/<domain>.<selector>.key   the private key, PEM (PKCS #8), RSA or Ed25519
//   dkim/<domain>.selector         the selectors to sign with, one per line
// A domain without a selector file is not signed. Listing two selectors (an RSA and an
// Ed25519 key) adds two signatures.
#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace chapar::smtp::outbound {

enum class DkimAlgorithm { kRsaSha256, kEd25519Sha256 };

// The header fields signed, each as often as it occurs; From once more, so that no From
// can be added without breaking the signature (RFC 6376 §8.15).
inline constexpr std::string_view kDkimSignedFields[] = {"From",
                                                         "To",
                                                         "Cc",
                                                         "Subject",
                                                         "Date",
                                                         "Message-ID",
                                                         "In-Reply-To",
                                                         "References",
                                                         "MIME-Version",
                                                         "Content-Type",
                                                         "Content-Transfer-Encoding"};

class DkimKey {
 public:
  // A PEM private key; RSA (at least 1024 bits, RFC 8301 §3.2) or Ed25519.
  static Result<DkimKey> from_pem(std::string_view pem, std::string domain, std::string selector);

  DkimAlgorithm algorithm() const { return algorithm_; }
  const std::string& domain() const { return domain_; }
  const std::string& selector() const { return selector_; }
  EVP_PKEY* native() const { return key_.get(); }

 private:
  DkimKey() : key_(nullptr, EVP_PKEY_free) {}
  std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key_;
  DkimAlgorithm algorithm_ = DkimAlgorithm::kRsaSha256;
  std::string domain_;
  std::string selector_;
};

// Whether `name` may be a selector (and part of a file name): letters, digits, '-', '_' and
// inner dots (RFC 6376 §3.1).
bool is_valid_selector(std::string_view name);

// The keys to sign mail from `domain` with, from `dir` (the data directory's dkim/): none
// when the domain has no selector file. A listed key that cannot be read is an error.
Result<std::vector<DkimKey>> load_dkim_keys(const std::filesystem::path& dir,
                                            std::string_view domain);

// The DKIM-Signature field ("DKIM-Signature: ...\r\n", folded) for a message whose header
// block is `header` and whose relaxed body hash is `body_hash` (BodyHasher), made at `time`.
Result<std::string> dkim_signature(const DkimKey& key, std::string_view header,
                                   std::string_view body_hash, int64_t time);

}  // namespace chapar::smtp::outbound
