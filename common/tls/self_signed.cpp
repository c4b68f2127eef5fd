// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/tls/self_signed.hpp"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "common/tls/openssl_error.hpp"

namespace chapar::tls {
namespace {

constexpr long kValiditySeconds = 10L * 365 * 24 * 60 * 60;

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using NamePtr = std::unique_ptr<X509_NAME, Deleter<X509_NAME, X509_NAME_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

Status add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return openssl_failure(Errc::kInvalidArgument, "certificate extension " + value);
  }
  return {};
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

Status write_file(const std::filesystem::path& path, const std::string& data, mode_t mode) {
  // Write to a sibling and rename, so that a reader never sees half a file and the final
  // file never had looser permissions.
  std::filesystem::path temp = path;
  temp += ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return fail(Errc::kIo, "cannot create " + temp.string() + ": " + strerror(errno));
  bool ok = ::fchmod(fd, mode) == 0;
  size_t done = 0;
  while (ok && done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  int saved = errno;
  ok = (::close(fd) == 0) && ok;
  if (ok && ::rename(temp.c_str(), path.c_str()) == 0) return {};
  if (saved == 0) saved = errno;
  ::unlink(temp.c_str());
  return fail(Errc::kIo, "cannot write " + path.string() + ": " + strerror(saved));
}

}  // namespace

Result<CertificatePair> make_self_signed(std::string_view hostname) {
  if (hostname.empty() || hostname.find_first_of(",\r\n\0", 0, 4) != std::string_view::npos) {
    return fail(Errc::kInvalidArgument, "bad host name for a certificate");
  }
  std::string host(hostname);
  ERR_clear_error();
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return openssl_failure(Errc::kInternal, "EC key generation");

  CertPtr cert(X509_new());
  if (!cert) return openssl_failure(Errc::kInternal, "X509_new");
  X509_set_version(cert.get(), X509_VERSION_3);
  // RFC 5280 §4.1.2.2: a positive serial of at most 20 octets; 159 random bits.
  unsigned char serial_bytes[20];
  if (RAND_bytes(serial_bytes, sizeof serial_bytes) != 1) {
    return openssl_failure(Errc::kInternal, "RAND_bytes");
  }
  serial_bytes[0] &= 0x7f;
  std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>> serial(
      BN_bin2bn(serial_bytes, sizeof serial_bytes, nullptr));
  if (!serial || BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return openssl_failure(Errc::kInternal, "serial number");
  }
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), kValiditySeconds) == nullptr) {
    return openssl_failure(Errc::kInternal, "validity");
  }
  NamePtr name(X509_NAME_new());
  if (!name ||
      X509_NAME_add_entry_by_txt(name.get(), "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(host.c_str()), -1, -1,
                                 0) != 1 ||
      X509_set_subject_name(cert.get(), name.get()) != 1 ||
      X509_set_issuer_name(cert.get(), name.get()) != 1 ||
      X509_set_pubkey(cert.get(), key.get()) != 1) {
    return openssl_failure(Errc::kInvalidArgument, "certificate subject " + host);
  }
  for (auto [nid, value] : {std::pair{NID_basic_constraints, std::string("critical,CA:FALSE")},
                            {NID_key_usage, "critical,digitalSignature"},
                            {NID_ext_key_usage, "serverAuth"},
                            {NID_subject_key_identifier, "hash"},
                            {NID_subject_alt_name, "DNS:" + host}}) {
    if (Status added = add_extension(cert.get(), nid, value); !added)
      return Unexpected{added.error()};
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return openssl_failure(Errc::kInternal, "X509_sign");
  }

  BioPtr cert_bio(BIO_new(BIO_s_mem()));
  BioPtr key_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || !key_bio || PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1) {
    return openssl_failure(Errc::kInternal, "PEM encoding");
  }
  return CertificatePair{bio_contents(cert_bio.get()), bio_contents(key_bio.get())};
}

Status generate_self_signed(std::string_view hostname, const std::filesystem::path& cert_path,
                            const std::filesystem::path& key_path) {
  auto pair = make_self_signed(hostname);
  if (!pair) return Unexpected{pair.error()};
  if (Status key = write_file(key_path, pair->key_pem, 0600); !key) return key;
  return write_file(cert_path, pair->certificate_pem, 0644);
}

}  // namespace chapar::tls
