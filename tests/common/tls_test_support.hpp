// SPDX-License-Identifier: AGPL-3.0-or-later
// Shared by the TLS and server tests: a self-signed certificate written to a temporary
// directory, and a loop that pumps ciphertext between two in-memory engines.
#pragma once

#include <doctest/doctest.h>

#include <fstream>

#include "common/tls/context.hpp"
#include "common/tls/engine.hpp"
#include "common/tls/self_signed.hpp"
#include "tests/support/test_dir.hpp"

namespace chapar::test {

struct TestCertificate {
  TestDir dir;
  std::filesystem::path certificate = dir / "cert.pem";
  std::filesystem::path key = dir / "key.pem";

  explicit TestCertificate(std::string_view hostname = "mail.example.test") {
    Status written = tls::generate_self_signed(hostname, certificate, key);
    REQUIRE_MESSAGE(written.has_value(), (written ? "" : written.error().message));
  }

  tls::Context server_context() const {
    auto context = tls::Context::server(certificate, key);
    REQUIRE_MESSAGE(context.has_value(), (context ? "" : context.error().message));
    return std::move(*context);
  }

  tls::Context client_context(bool verify) const {
    auto context = tls::Context::client({verify, certificate});
    REQUIRE_MESSAGE(context.has_value(), (context ? "" : context.error().message));
    return std::move(*context);
  }
};

// Moves ciphertext both ways until neither side has anything to send. Returns false as soon
// as either side fails.
inline bool pump(tls::Engine& client, tls::Engine& server) {
  for (int round = 0; round < 100; ++round) {
    std::string to_server = client.take_ciphertext();
    std::string to_client = server.take_ciphertext();
    if (to_server.empty() && to_client.empty()) return !client.failed() && !server.failed();
    if (!to_server.empty() && !server.feed(to_server)) {
      // Deliver the alert so both sides see the failure.
      (void)client.feed(server.take_ciphertext());
      return false;
    }
    if (!to_client.empty() && !client.feed(to_client)) {
      (void)server.feed(client.take_ciphertext());
      return false;
    }
  }
  FAIL("TLS engines kept exchanging data");
  return false;
}

}  // namespace chapar::test
