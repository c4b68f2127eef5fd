// SPDX-License-Identifier: AGPL-3.0-or-later
// The queue runner's reading of a remote server's replies, shared by the `smtp_reply` target
// (the reader alone) and the `outbound` target (which builds DSNs from the replies).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "smtpd/outbound/reply_reader.hpp"
#include "tests/fuzz/fuzz_promise.hpp"

namespace chapar::fuzz {

// Feeds `input` to a ReplyReader in pieces of (mode >> 4) + 1 bytes, with tiny limits when
// bit 0 of `mode` is set, and returns the replies read before the end or the first error.
inline std::vector<smtp::outbound::ServerReply> read_replies(std::string_view input, uint8_t mode) {
  using namespace smtp::outbound;
  ReplyLimits limits;
  if (mode & 1) limits = ReplyLimits{64, 4};
  ReplyReader reader(limits);
  std::vector<ServerReply> replies;
  size_t chunk = (mode >> 4) + 1;
  for (size_t offset = 0; offset < input.size(); offset += chunk) {
    reader.feed(input.substr(offset, chunk));
    while (auto reply = reader.next()) {
      if (!*reply) return replies;  // the connection is of no further use
      ServerReply& r = **reply;
      require(r.code >= 200 && r.code <= 599, "a reply code is within 200..599");
      (void)r.text();
      (void)r.status();
      Capabilities caps = parse_capabilities(r);
      (void)caps.offers_auth("PLAIN");
      replies.push_back(std::move(r));
    }
  }
  return replies;
}

}  // namespace chapar::fuzz
