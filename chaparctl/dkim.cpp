// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/dkim.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <system_error>

#include "chaparctl/lookup.hpp"
#include "common/text/base64.hpp"
#include "common/text/date.hpp"

namespace chapar::ctl {
namespace {

constexpr int kRsaBits = 2048;  // RFC 8301 §3.2: at least 1024, 2048 recommended

using KeyPtr = std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)>;
using BioPtr = std::unique_ptr<BIO, int (*)(BIO*)>;

bool valid_selector(std::string_view name) {
  if (name.empty() || name.size() > 63 || name.front() == '.' || name.back() == '.' ||
      name.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

Result<std::string> private_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return fail(Errc::kInternal, "cannot encode the private key");
  }
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(length));
}

// RFC 6376 §3.6.1: p= is the SubjectPublicKeyInfo for RSA; RFC 8463 §4.2: the raw 32-octet
// key for Ed25519.
Result<std::string> public_base64(EVP_PKEY* key, bool ed25519) {
  std::string raw;
  if (ed25519) {
    size_t length = 0;
    if (EVP_PKEY_get_raw_public_key(key, nullptr, &length) != 1) {
      return fail(Errc::kInternal, "cannot read the public key");
    }
    raw.resize(length);
    EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &length);
  } else {
    int length = i2d_PUBKEY(key, nullptr);
    if (length <= 0) return fail(Errc::kInternal, "cannot encode the public key");
    raw.resize(static_cast<size_t>(length));
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    i2d_PUBKEY(key, &out);
  }
  return text::base64_encode(raw);
}

// Files made by root belong to whoever owns the data directory, so that the daemons can read
// them after dropping privileges.
void give_to_data_dir_owner(const std::filesystem::path& data_dir, const std::filesystem::path& p) {
  if (::geteuid() != 0) return;
  struct stat owner {};
  if (::stat(data_dir.c_str(), &owner) != 0) return;
  if (::chown(p.c_str(), owner.st_uid, owner.st_gid) != 0) return;
}

Status write_new_file(const std::filesystem::path& path, std::string_view content) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return fail(Errc::kAlreadyExists,
                  fmt::format("{} exists; choose another --selector", path.string()));
    }
    return fail(Errc::kIo,
                fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
  }
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int error = errno;
      ::close(fd);
      return fail(Errc::kIo,
                  fmt::format("cannot write {}: {}", path.string(), std::strerror(error)));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return fail(Errc::kIo, fmt::format("cannot write {}", path.string()));
  }
  return {};
}

// Adds the selector to the domain's selector file unless it is listed already.
Status activate(const std::filesystem::path& file, std::string_view selector) {
  std::string existing;
  {
    std::ifstream in(file);
    if (in) {
      std::ostringstream text;
      text << in.rdbuf();
      existing = text.str();
    }
  }
  std::istringstream lines(existing);
  for (std::string line; std::getline(lines, line);) {
    if (line == selector) return {};
  }
  std::ofstream out(file, std::ios::app);
  if (!existing.empty() && existing.back() != '\n') out << '\n';
  out << selector << '\n';
  out.flush();
  if (!out) return fail(Errc::kIo, fmt::format("cannot write {}", file.string()));
  return {};
}

}  // namespace

std::string dkim_dns_record(std::string_view domain, std::string_view selector,
                            std::string_view key_type, std::string_view public_key_base64) {
  std::string value = fmt::format("v=DKIM1; k={}; p={}", key_type, public_key_base64);
  std::string strings;
  for (size_t pos = 0; pos < value.size(); pos += 255) {
    if (!strings.empty()) strings += "\n    ";
    strings += fmt::format("\"{}\"", value.substr(pos, 255));
  }
  return fmt::format("{}._domainkey.{}. IN TXT ( {} )", selector, domain, strings);
}

Status cmd_dkim_generate(Context& ctx) {
  auto domain = hosted_domain(*ctx.store, *ctx.option("domain"));
  if (!domain) return Unexpected{domain.error()};
  std::string algorithm(ctx.option("algorithm").value_or("rsa"));
  bool ed25519 = algorithm == "ed25519";
  if (!ed25519 && algorithm != "rsa") {
    return fail(Errc::kInvalidArgument,
                fmt::format("--algorithm {}: expected rsa or ed25519", algorithm));
  }
  std::string selector;
  if (auto given = ctx.option("selector")) {
    selector = std::string(*given);
  } else {
    // A dated selector, so that the next key (a rotation) gets a new name.
    text::CivilDate today = text::civil_date(static_cast<int64_t>(std::time(nullptr)));
    selector = fmt::format("{}{:04}{:02}", ed25519 ? "e" : "r", today.year, today.month);
  }
  if (!valid_selector(selector)) {
    return fail(
        Errc::kInvalidArgument,
        fmt::format("--selector {}: use letters, digits, '-', '_' and inner dots", selector));
  }

  EVP_PKEY* made = ed25519
                       ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                       : EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(kRsaBits));
  KeyPtr key(made, EVP_PKEY_free);
  if (!key) return fail(Errc::kInternal, "key generation failed");
  auto pem = private_pem(key.get());
  if (!pem) return Unexpected{pem.error()};
  auto public_key = public_base64(key.get(), ed25519);
  if (!public_key) return Unexpected{public_key.error()};

  const std::filesystem::path& data_dir = ctx.store->data_dir();
  std::filesystem::path dir = data_dir / "dkim";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(Errc::kIo, fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  ::chmod(dir.c_str(), 0750);
  give_to_data_dir_owner(data_dir, dir);
  std::filesystem::path key_file = dir / fmt::format("{}.{}.key", *domain, selector);
  if (Status written = write_new_file(key_file, *pem); !written) return written;
  give_to_data_dir_owner(data_dir, key_file);
  std::filesystem::path selector_file = dir / fmt::format("{}.selector", *domain);
  if (Status listed = activate(selector_file, selector); !listed) return listed;
  give_to_data_dir_owner(data_dir, selector_file);

  std::ostream& out = ctx.io.out;
  out << fmt::format("wrote {} ({})\n", key_file.string(),
                     ed25519 ? "ed25519" : fmt::format("rsa {} bits", kRsaBits));
  out << fmt::format("mail from {} is signed with selector {} from now on ({})\n", *domain,
                     selector, selector_file.string());
  out << "publish this DNS record:\n";
  out << dkim_dns_record(*domain, selector, ed25519 ? "ed25519" : "rsa", *public_key) << '\n';
  return {};
}

}  // namespace chapar::ctl
