// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/auth/password.hpp"

#include <crypt.h>
#include <openssl/crypto.h>

#include <memory>

namespace chapar::auth {
namespace {

// yescrypt at the default cost of a phrase nobody knows; verifying against it costs what
// verifying a real new hash does.
constexpr std::string_view kDummyHash =
    "$y$j9T$Ys1oKApvr5S4ed9C/K8sF1$/1GxIemlMSjWSsZn9dhOvUAGTV2pKAmA/xTSs.59d38";

constexpr std::string_view kPrefixes[] = {"$y$", "$2b$", "$6$", "$5$"};

// The hash of `password` with the algorithm and salt of `setting`, or "" on failure.
std::string crypt_with(std::string_view password, const std::string& setting) {
  // struct crypt_data is ~32 KiB: too big for a worker thread's stack to take lightly.
  auto data = std::make_unique<crypt_data>();
  std::string phrase(password);
  const char* out = crypt_rn(phrase.c_str(), setting.c_str(), data.get(), sizeof *data);
  std::string result = out ? std::string(out) : std::string();
  OPENSSL_cleanse(data.get(), sizeof *data);
  OPENSSL_cleanse(phrase.data(), phrase.size());
  return result;
}

bool has_nul(std::string_view s) {
  return s.find('\0') != std::string_view::npos;
}

}  // namespace

Result<std::string> hash_password(std::string_view password) {
  if (has_nul(password)) return fail(Errc::kInvalidArgument, "password contains a NUL octet");
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  // A null random source makes libxcrypt read the system's (getrandom/urandom).
  if (!crypt_gensalt_rn("$y$", 0, nullptr, 0, setting, sizeof setting)) {
    return fail(Errc::kInternal, "crypt_gensalt_rn failed");
  }
  std::string hash = crypt_with(password, setting);
  if (hash.empty() || hash[0] == '*') return fail(Errc::kInternal, "crypt_rn failed");
  return hash;
}

bool is_supported_hash(std::string_view hash) {
  if (has_nul(hash)) return false;
  for (std::string_view prefix : kPrefixes) {
    if (hash.substr(0, prefix.size()) == prefix && hash.size() > prefix.size()) return true;
  }
  return false;
}

bool verify_password(std::string_view password, std::string_view hash) {
  bool usable = is_supported_hash(hash) && !has_nul(password);
  std::string expected(usable ? hash : kDummyHash);
  std::string computed = crypt_with(has_nul(password) ? std::string_view() : password, expected);
  bool same = computed.size() == expected.size() &&
              CRYPTO_memcmp(computed.data(), expected.data(), expected.size()) == 0;
  return usable && same;
}

std::string_view dummy_password_hash() {
  return kDummyHash;
}

}  // namespace chapar::auth
