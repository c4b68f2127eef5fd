// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/auth/login_cache.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdint>

namespace chapar::auth {

LoginCache::LoginCache(std::chrono::seconds lifetime, size_t capacity)
    : lifetime_(lifetime), capacity_(capacity) {
  if (lifetime_.count() > 0 && RAND_bytes(key_.data(), static_cast<int>(key_.size())) != 1) {
    // Without a secret key the entries could be checked offline: keep nothing.
    lifetime_ = std::chrono::seconds(0);
  }
}

LoginCache::Mac LoginCache::mac(std::string_view account, std::string_view hash,
                                std::string_view password) const {
  // Each part is preceded by its length, so that no two inputs run together the same way.
  std::string input;
  input.reserve(24 + account.size() + hash.size() + password.size());
  for (std::string_view part : {account, hash, password}) {
    uint64_t size = part.size();
    input.append(reinterpret_cast<const char*>(&size), sizeof size);
    input.append(part);
  }
  Mac out{};
  unsigned int length = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), out.data(), &length);
  OPENSSL_cleanse(input.data(), input.size());
  return out;
}

bool LoginCache::recall(std::string_view account, std::string_view hash, std::string_view password,
                        Clock::time_point now) {
  if (lifetime_.count() == 0) return false;
  Mac candidate = mac(account, hash, password);
  std::lock_guard lock(mutex_);
  auto it = entries_.find(std::string(account));
  if (it == entries_.end()) return false;
  if (it->second.expires <= now) {
    entries_.erase(it);
    return false;
  }
  return CRYPTO_memcmp(candidate.data(), it->second.mac.data(), candidate.size()) == 0;
}

void LoginCache::remember(std::string_view account, std::string_view hash,
                          std::string_view password, Clock::time_point now) {
  if (lifetime_.count() == 0 || capacity_ == 0) return;
  Entry entry{mac(account, hash, password), now + lifetime_};
  std::lock_guard lock(mutex_);
  if (entries_.size() >= capacity_ && entries_.find(std::string(account)) == entries_.end()) {
    std::erase_if(entries_, [now](const auto& item) { return item.second.expires <= now; });
    if (entries_.size() >= capacity_) entries_.clear();
  }
  entries_.insert_or_assign(std::string(account), entry);
}

}  // namespace chapar::auth
