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
#include <string_view>

#include "tests/fuzz/mime_checks.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chapar;
  if (size == 0) return 0;
  uint8_t mode = data[0];
  std::string_view raw(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (mode == 0xff) {
    fuzz::deserialize_checked(raw);
    return 0;
  }
  std::string message;
  (void)fuzz::parse_checked(raw, mode, message);
  fuzz::decode_head(raw);
  return 0;
}
