// SPDX-License-Identifier: AGPL-3.0-or-later
#include <doctest/doctest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <memory>

#include "common/tls/context.hpp"
#include "common/tls/self_signed.hpp"
#include "tests/support/test_dir.hpp"

namespace chapar::tls {
namespace {

TEST_CASE("tls: a generated certificate and key load as a pair") {
  test::TestDir dir;
  auto cert = dir / "cert.pem";
  auto key = dir / "key.pem";
  REQUIRE(generate_self_signed("mail.example.test", cert, key).has_value());

  struct stat st {};
  REQUIRE(::stat(key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(cert.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);

  CHECK(Context::server(cert, key).has_value());

  std::unique_ptr<FILE, decltype(&fclose)> file(fopen(cert.c_str(), "r"), &fclose);
  REQUIRE(file);
  std::unique_ptr<X509, decltype(&X509_free)> x509(
      PEM_read_X509(file.get(), nullptr, nullptr, nullptr), &X509_free);
  REQUIRE(x509);
  CHECK(X509_check_host(x509.get(), "mail.example.test", 0, 0, nullptr) == 1);
  CHECK(X509_check_host(x509.get(), "other.example.test", 0, 0, nullptr) == 0);
  // Ten years, give or take a day.
  int days = 0, seconds = 0;
  REQUIRE(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(x509.get()),
                         X509_get0_notAfter(x509.get())) == 1);
  CHECK(days >= 3649);
  CHECK(days <= 3651);
}

TEST_CASE("tls: certificates get distinct serial numbers") {
  auto a = make_self_signed("a.example.test");
  auto b = make_self_signed("a.example.test");
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  CHECK(a->certificate_pem != b->certificate_pem);
  CHECK(a->key_pem.find("BEGIN PRIVATE KEY") != std::string::npos);
}

TEST_CASE("tls: host names that would corrupt the certificate are refused") {
  CHECK_FALSE(make_self_signed("").has_value());
  CHECK_FALSE(make_self_signed("a.example,DNS:evil.example").has_value());
  CHECK_FALSE(make_self_signed(std::string_view("a\0b", 3)).has_value());
}

TEST_CASE("tls: writing into a missing directory is an error") {
  CHECK_FALSE(generate_self_signed("a.example.test", "/nonexistent/c.pem", "/nonexistent/k.pem")
                  .has_value());
}

}  // namespace
}  // namespace chapar::tls
