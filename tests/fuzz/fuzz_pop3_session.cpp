// SPDX-License-Identifier: AGPL-3.0-or-later
// Whole POP3 conversations against the real store (a fresh copy for every input): USER/PASS,
// AUTH PLAIN/LOGIN, APOP, STLS, the TRANSACTION commands, streamed RETR/TOP under
// back-pressure, QUIT with its durable deletions, timeouts and shutdown at any point.
#include <cstdint>
#include <memory>

#include "pop3d/session.hpp"
#include "tests/fuzz/fuzz_host.hpp"
#include "tests/fuzz/fuzz_store.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chapar;
  static fuzz::FuzzStore fixture;
  fixture.reset();
  net::SessionFactory factory =
      [](net::SessionHost& host) -> std::unique_ptr<net::ProtocolSession> {
    return std::make_unique<pop3::Session>(
        host, pop3::Services{fixture.config(), fixture.store(), fixture.throttle()});
  };
  fuzz::drive(factory, "pop3", "pop3s", data, size);
  fixture.close();
  return 0;
}
