// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/auth/password.hpp"

#include <crypt.h>

#include <doctest/doctest.h>

namespace chapar::auth {
namespace {

// A hash of `password` made by libxcrypt with a fresh salt for `prefix` at its default cost.
std::string make_hash(const char* prefix, const std::string& password) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  REQUIRE(crypt_gensalt_rn(prefix, 0, nullptr, 0, setting, sizeof setting) != nullptr);
  crypt_data data{};
  const char* hash = crypt_rn(password.c_str(), setting, &data, sizeof data);
  REQUIRE(hash != nullptr);
  return hash;
}

TEST_CASE("password: each supported scheme verifies") {
  for (const char* prefix : {"$y$", "$2b$", "$6$", "$5$"}) {
    CAPTURE(prefix);
    std::string hash = make_hash(prefix, "correct horse");
    CHECK(hash.rfind(prefix, 0) == 0);
    CHECK(is_supported_hash(hash));
    CHECK(verify_password("correct horse", hash));
    CHECK_FALSE(verify_password("correct horsf", hash));
    CHECK_FALSE(verify_password("", hash));
    CHECK_FALSE(verify_password(std::string("correct horse\0x", 15), hash));
  }
}

TEST_CASE("password: the published SHA-crypt vectors") {
  // From "Unix crypt using SHA-256 and SHA-512" by Ulrich Drepper.
  CHECK(verify_password("Hello world!",
                        "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68"
                        "u4OTLiBFdcbYEdFCoEOfaS35inz1"));
  CHECK(
      verify_password("Hello world!", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"));
  CHECK_FALSE(verify_password("Hello world?",
                              "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJu"
                              "esI68u4OTLiBFdcbYEdFCoEOfaS35inz1"));
}

TEST_CASE("password: new hashes are yescrypt and salted") {
  auto a = hash_password("s3cret");
  auto b = hash_password("s3cret");
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  CHECK(a->rfind("$y$", 0) == 0);
  CHECK(*a != *b);
  CHECK(verify_password("s3cret", *a));
  CHECK(verify_password("s3cret", *b));
  CHECK_FALSE(verify_password("S3cret", *a));
  auto nul = hash_password(std::string("a\0b", 3));
  REQUIRE_FALSE(nul.has_value());
  CHECK(nul.error().code == Errc::kInvalidArgument);
}

TEST_CASE("password: missing, foreign and malformed hashes never verify") {
  CHECK(is_supported_hash(dummy_password_hash()));
  for (std::string_view hash : {"", "!", "*", "x", "$1$abc$def", "$y$", "$6$", "$6$salt$tooshort",
                                "plaintext", "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA"}) {
    CAPTURE(hash);
    CHECK_FALSE(verify_password("plaintext", hash));
    CHECK_FALSE(verify_password("", hash));
  }
  CHECK_FALSE(is_supported_hash("$1$abc$def"));
  CHECK_FALSE(is_supported_hash(""));
}

}  // namespace
}  // namespace chapar::auth
