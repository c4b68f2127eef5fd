// SPDX-License-Identifier: AGPL-3.0-or-later
// The queue runner's reader of a remote server's replies alone: multi-line replies split
// anywhere, the line and line-count limits, enhanced status codes and EHLO capabilities.
// The `outbound` target adds DKIM signing and DSNs built from the replies; this one is the
// parser's long run.
//
// Input: a mode byte (bit 0: tiny limits; bits 4-7: the size of the pieces, 1 to 16
// bytes), then what the server sends.
#include <cstdint>
#include <string_view>

#include "tests/fuzz/reply_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  (void)chapar::fuzz::read_replies(input, data[0]);
  return 0;
}
