// SPDX-License-Identifier: AGPL-3.0-or-later
// Whole SMTP conversations against the real store (a fresh copy for every input): EHLO,
// STARTTLS, AUTH, MAIL/RCPT with every parameter, DATA and BDAT with deliveries committed
// to the store, pipelining, RSET, limits, timeouts and shutdown at any point. The mode byte
// picks the MX listener ("smtp") or submission over implicit TLS ("submissions").
#include <cstdint>
#include <memory>

#include "smtpd/session.hpp"
#include "tests/fuzz/fuzz_host.hpp"
#include "tests/fuzz/fuzz_store.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chapar;
  static fuzz::FuzzStore fixture;
  fixture.reset();
  net::SessionFactory factory =
      [](net::SessionHost& host) -> std::unique_ptr<net::ProtocolSession> {
    return std::make_unique<smtp::Session>(
        host, smtp::Services{fixture.config(), fixture.store(), fixture.throttle()});
  };
  fuzz::drive(factory, "smtp", "submissions", data, size);
  fixture.close();
  return 0;
}
