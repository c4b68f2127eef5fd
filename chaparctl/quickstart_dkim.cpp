// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/quickstart_dkim.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include "chaparctl/commands.hpp"
#include "common/text/base64.hpp"

namespace chapar::ctl {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kDkimFolder = "dkim";

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};

Result<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::kIo, fmt::format("cannot read {}", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t\r");
  return std::string(text.substr(begin, end - begin + 1));
}

const Command* dkim_generate_command() {
  for (const Command& command : commands()) {
    if (command.group == "dkim" && command.verb == "generate") return &command;
  }
  return nullptr;
}

bool lists_name(std::string_view names, std::string_view name) {
  while (!names.empty()) {
    size_t space = names.find(' ');
    if (names.substr(0, space) == name) return true;
    names = space == std::string_view::npos ? std::string_view() : names.substr(space + 1);
  }
  return false;
}

}  // namespace

Result<DkimPublicKey> dkim_public_key(std::string_view selector, std::string_view private_key_pem) {
  std::unique_ptr<BIO, BioFree> bio(
      BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())));
  if (!bio) return fail(Errc::kInternal, "out of memory");
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return fail(Errc::kInvalidArgument, "not a PEM private key");

  std::string algorithm;
  std::string public_key;
  if (EVP_PKEY_is_a(key.get(), "ED25519")) {
    algorithm = "ed25519";
    unsigned char raw[64];
    size_t length = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(key.get(), raw, &length) != 1) {
      return fail(Errc::kInvalidArgument, "cannot read the Ed25519 public key");
    }
    public_key.assign(reinterpret_cast<const char*>(raw), length);
  } else if (EVP_PKEY_is_a(key.get(), "RSA")) {
    algorithm = "rsa";
    int length = i2d_PUBKEY(key.get(), nullptr);
    if (length <= 0) return fail(Errc::kInvalidArgument, "cannot encode the RSA public key");
    public_key.resize(static_cast<size_t>(length));
    auto* out = reinterpret_cast<unsigned char*>(public_key.data());
    i2d_PUBKEY(key.get(), &out);
  } else {
    return fail(Errc::kInvalidArgument, "DKIM keys are RSA or Ed25519");
  }
  return DkimPublicKey{std::string(selector), fmt::format("v=DKIM1; k={}; p={}", algorithm,
                                                          text::base64_encode(public_key))};
}

Result<std::vector<DkimPublicKey>> read_dkim_keys(const fs::path& dkim_dir,
                                                  std::string_view domain) {
  std::vector<DkimPublicKey> keys;
  const fs::path list = dkim_dir / fmt::format("{}.selector", domain);
  std::error_code ec;
  if (!fs::exists(list, ec)) return keys;
  auto selectors = read_file(list);
  if (!selectors) return Unexpected{selectors.error()};
  std::istringstream lines(*selectors);
  for (std::string line; std::getline(lines, line);) {
    std::string selector = trim(line);
    if (selector.empty()) continue;
    const fs::path key_path = dkim_dir / fmt::format("{}.{}.key", domain, selector);
    auto pem = read_file(key_path);
    if (!pem) return Unexpected{pem.error()};
    auto key = dkim_public_key(selector, *pem);
    if (!key) {
      return fail(key.error().code, fmt::format("{}: {}", key_path.string(), key.error().message));
    }
    keys.push_back(std::move(*key));
  }
  return keys;
}

DkimOutcome ensure_dkim_keys(const fs::path& config_path, const fs::path& data_dir,
                             std::string_view domain) {
  DkimOutcome outcome;
  const fs::path dkim_dir = data_dir / kDkimFolder;
  auto existing = read_dkim_keys(dkim_dir, domain);
  if (!existing) {
    outcome.note = existing.error().message;
    return outcome;
  }
  if (!existing->empty()) {
    outcome.keys = std::move(*existing);
    outcome.note = "kept the existing DKIM keys";
    return outcome;
  }
  const Command* generate = dkim_generate_command();
  if (generate == nullptr) {
    outcome.note = "this build of chaparctl cannot make DKIM keys";
    return outcome;
  }
  std::vector<std::string> argv{"--config", config_path.string(), "dkim", "generate"};
  if (lists_name(generate->options, "domain")) {
    argv.insert(argv.end(), {"--domain", std::string(domain)});
  } else {
    argv.emplace_back(domain);
  }
  std::istringstream no_input;
  std::ostringstream output;
  std::ostringstream errors;
  Io io{no_input, output, errors};
  if (run(argv, io) != 0) {
    outcome.note =
        fmt::format("'chaparctl dkim generate {}' failed: {}", domain, trim(errors.str()));
    return outcome;
  }
  auto made = read_dkim_keys(dkim_dir, domain);
  if (!made) {
    outcome.note = made.error().message;
  } else if (made->empty()) {
    outcome.note =
        fmt::format("'chaparctl dkim generate {}' made no key in {}", domain, dkim_dir.string());
  } else {
    outcome.keys = std::move(*made);
    outcome.note = "made a DKIM key";
  }
  return outcome;
}

}  // namespace chapar::ctl
