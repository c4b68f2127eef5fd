// SPDX-License-Identifier: AGPL-3.0-or-later
// The MIME parser alone, on whole messages: line-end normalisation, parse_message, the
// stored form (serialize/deserialize), ENVELOPE, BODYSTRUCTURE, address lists and header
// decoding. The `mime` target adds every section and decoded form FETCH builds, at a tenth
// of the speed; this one is the parser's long run.
//
// Input: a mode byte (0xff: the rest is a stored structure for deserialize; otherwise bit 0
// selects tiny nesting and part limits), then the message.
#include <cstdint>
#include <string>

#include "tests/fuzz/mime_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string message;
  (void)chapar::fuzz::check_input(data, size, message);
  return 0;
}
