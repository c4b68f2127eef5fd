// SPDX-License-Identifier: AGPL-3.0-or-later
// Whole IMAP conversations against the real store (a fresh copy for every input): LOGIN and
// AUTHENTICATE, STARTTLS, mailbox commands, SELECT with CONDSTORE/QRESYNC, FETCH of every
// attribute, SEARCH, STORE, COPY/MOVE, EXPUNGE, APPEND with literals, IDLE, timeouts and
// shutdown at any point.
#include <cstdint>
#include <memory>

#include "imapd/mailbox_watch.hpp"
#include "imapd/message_cache.hpp"
#include "imapd/session.hpp"
#include "tests/fuzz/fuzz_host.hpp"
#include "tests/fuzz/fuzz_store.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chapar;
  static fuzz::FuzzStore fixture;
  fixture.reset();
  imap::MailboxWatch watch;
  // A fresh store hands out the same UIDs again: the cache must be as fresh. It is small, so
  // that its eviction runs too.
  imap::MessageCache cache(4096);
  net::SessionFactory factory =
      [&watch, &cache](net::SessionHost& host) -> std::unique_ptr<net::ProtocolSession> {
    return std::make_unique<imap::Session>(
        host, imap::Services{fixture.config(), fixture.store(), fixture.throttle(), watch, &cache});
  };
  fuzz::drive(factory, "imap", "imaps", data, size);
  fixture.close();
  return 0;
}
