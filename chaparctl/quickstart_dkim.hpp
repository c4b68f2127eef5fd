// SPDX-License-Identifier: AGPL-3.0-or-later
// DKIM keys for quickstart. Keys live in the data directory's dkim/ folder, where
// chapar-smtpd signs with them: dkim/<domain>.selector lists the selectors, one per line,
// and dkim/<domain>.<selector>.key holds each private key (PEM, RSA or Ed25519). A domain
// without keys gets them from this build's `chaparctl dkim generate`, when it has one.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "chaparctl/quickstart_dns.hpp"
#include "common/result.hpp"

namespace chapar::ctl {

// The TXT record of a private key (RFC 6376 §3.6.1): k=rsa with the DER SubjectPublicKeyInfo,
// or k=ed25519 with the raw 32-octet public key (RFC 8463 §4.2), in base64.
Result<DkimPublicKey> dkim_public_key(std::string_view selector, std::string_view private_key_pem);

// The public keys of every selector listed for `domain` in `dkim_dir`; none when the domain
// has no selector file.
Result<std::vector<DkimPublicKey>> read_dkim_keys(const std::filesystem::path& dkim_dir,
                                                  std::string_view domain);

struct DkimOutcome {
  std::vector<DkimPublicKey> keys;
  std::string note;  // why there are none, or what was done
};

// Makes sure `domain` has DKIM keys (running `dkim generate` for it when it has none and the
// command exists) and returns their records. Never fails: trouble is told in `note`.
DkimOutcome ensure_dkim_keys(const std::filesystem::path& config_path,
                             const std::filesystem::path& data_dir, std::string_view domain);

}  // namespace chapar::ctl
