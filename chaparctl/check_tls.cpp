// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/check_tls.hpp"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "common/result.hpp"

namespace chapar::ctl {
namespace {

struct FileClose {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

using File = std::unique_ptr<std::FILE, FileClose>;

constexpr std::string_view kLetsEncrypt = "/etc/letsencrypt/";

// What to do about a file the daemons cannot read.
std::string readability_advice(const std::filesystem::path& path, std::string_view reader) {
  if (path.string().starts_with(kLetsEncrypt)) {
    return fmt::format(
        "run certbot with --deploy-hook /usr/lib/chapar/certbot-deploy-hook (or run the hook "
        "once with RENEWED_LINEAGE={})",
        path.parent_path().string());
  }
  return fmt::format("make it readable by {} (e.g. chgrp chapar FILE; chmod 0640 FILE)", reader);
}

Result<File> open_for(const std::filesystem::path& path, std::string_view key_name,
                      std::string_view reader, CheckReport& report) {
  File file(std::fopen(path.c_str(), "r"));
  if (file) return file;
  int error = errno;
  if (error == ENOENT) {
    report.problem(
        fmt::format("{}: {} does not exist: get a certificate for the host name, or "
                    "point {} at it",
                    key_name, path.string(), key_name));
  } else if (error == EACCES) {
    report.problem(fmt::format("{}: {} is not readable by {}: {}", key_name, path.string(), reader,
                               readability_advice(path, reader)));
  } else {
    report.problem(
        fmt::format("{}: cannot read {}: {}", key_name, path.string(), std::strerror(error)));
  }
  return fail(Errc::kIo, "unreadable");
}

std::string format_time(const ASN1_TIME* time) {
  struct tm parts {};
  if (ASN1_TIME_to_tm(time, &parts) != 1) return "an unreadable date";
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &parts);
  return text;
}

}  // namespace

void check_certificate(const CertificateCheck& check, CheckReport& report) {
  if (check.certificate.empty()) {
    report.problem(
        "tls.certificate is not set, but listeners use TLS: set tls.certificate and tls.key");
    return;
  }
  if (check.key.empty()) {
    report.problem("tls.key is not set: set it to the certificate's private key");
    return;
  }
  auto cert_file = open_for(check.certificate, "tls.certificate", check.reader, report);
  auto key_file = open_for(check.key, "tls.key", check.reader, report);
  if (!cert_file || !key_file) return;

  std::unique_ptr<X509, X509Free> cert(PEM_read_X509(cert_file->get(), nullptr, nullptr, nullptr));
  if (!cert) {
    report.problem(
        fmt::format("tls.certificate: {} holds no PEM certificate: point "
                    "tls.certificate at the chain (fullchain.pem)",
                    check.certificate.string()));
    return;
  }
  std::unique_ptr<EVP_PKEY, PkeyFree> key(
      PEM_read_PrivateKey(key_file->get(), nullptr, nullptr, nullptr));
  if (!key) {
    report.problem(
        fmt::format("tls.key: {} holds no unencrypted PEM private key: point tls.key "
                    "at the key (privkey.pem)",
                    check.key.string()));
    return;
  }

  bool in_order = true;
  std::time_t now = check.now;
  const ASN1_TIME* not_before = X509_get0_notBefore(cert.get());
  const ASN1_TIME* not_after = X509_get0_notAfter(cert.get());
  if (X509_cmp_time(not_before, &now) > 0) {
    report.problem(
        fmt::format("tls.certificate: {} is valid only from {}: check the clock, or "
                    "use a certificate valid now",
                    check.certificate.string(), format_time(not_before)));
    in_order = false;
  }
  std::time_t warn_at = now + static_cast<std::time_t>(check.warn_days) * 24 * 3600;
  if (X509_cmp_time(not_after, &now) < 0) {
    report.problem(
        fmt::format("tls.certificate: {} expired on {}: renew it (certbot renew) and "
                    "reload the daemons",
                    check.certificate.string(), format_time(not_after)));
    in_order = false;
  } else if (X509_cmp_time(not_after, &warn_at) < 0) {
    report.problem(
        fmt::format("tls.certificate: {} expires on {}: renew it (certbot renew) and "
                    "reload the daemons",
                    check.certificate.string(), format_time(not_after)));
    in_order = false;
  }
  // RFC 6125 §6: the reference identifier is the server's host name; clients compare it with
  // the DNS names of the subjectAltName.
  if (X509_check_host(cert.get(), check.hostname.data(), check.hostname.size(), 0, nullptr) != 1) {
    report.problem(
        fmt::format("tls.certificate: {} is not issued for {}: get one for that name, "
                    "or set server.hostname to the name it has",
                    check.certificate.string(), check.hostname));
    in_order = false;
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    report.problem(
        fmt::format("tls.key: {} is not the key of {}: point tls.key at the matching "
                    "key",
                    check.key.string(), check.certificate.string()));
    in_order = false;
  }
  if (in_order) {
    report.ok(fmt::format("certificate {} for {}, valid until {}", check.certificate.string(),
                          check.hostname, format_time(not_after)));
  }
}

}  // namespace chapar::ctl
