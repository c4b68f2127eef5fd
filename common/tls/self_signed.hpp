// SPDX-License-Identifier: AGPL-3.0-or-later
// A self-signed certificate for the embedded default (`chaparctl init`) and for tests: an EC
// P-256 key, subject CN and subjectAltName DNS:hostname, valid for ten years from now.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace chapar::tls {

struct CertificatePair {
  std::string certificate_pem;
  std::string key_pem;  // PKCS#8, unencrypted
};

Result<CertificatePair> make_self_signed(std::string_view hostname);

// Writes the pair to two files: the certificate with mode 0644, the key with mode 0600 (the
// key file is created with that mode, never readable by others even briefly). Existing files
// are replaced.
Status generate_self_signed(std::string_view hostname, const std::filesystem::path& cert_path,
                            const std::filesystem::path& key_path);

}  // namespace chapar::tls
