// SPDX-License-Identifier: AGPL-3.0-or-later
// The MIME parser's promises on one whole message, shared by the `mime_parser` target (the
// parser alone) and the `mime` target (the parser and everything FETCH builds on it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "libmailstore/mime/address.hpp"
#include "libmailstore/mime/charset.hpp"
#include "libmailstore/mime/decode.hpp"
#include "libmailstore/mime/render.hpp"
#include "libmailstore/mime/structure.hpp"
#include "tests/fuzz/fuzz_promise.hpp"

namespace chapar::fuzz {

// Normalises `raw` into `message` as the store does and parses it (tiny nesting and part
// limits when bit 0 of `mode` is set). Checks that normalising is idempotent, that the
// structure spans the message, that its stored form reads back unchanged, and renders
// ENVELOPE and BODYSTRUCTURE from it.
inline mime::MessageStructure parse_checked(std::string_view raw, uint8_t mode,
                                            std::string& message) {
  message = mime::normalize_line_endings(raw);
  // Normalising again changes nothing, except that a CR left at the very end (from "\r\r")
  // is then the last octet and goes too, as the contract says.
  if (!message.ends_with('\r')) {
    require(mime::normalize_line_endings(message) == message, "normalising is idempotent");
  }
  mime::ParseLimits limits;
  if (mode & 1) limits = mime::ParseLimits{3, 12};
  mime::MessageStructure structure = mime::parse_message(message, limits);
  require(structure.size == message.size(), "RFC822.SIZE is the stored size");
  require(structure.root.offset == 0 && structure.root.end() == message.size(),
          "the top-level part is the whole message");

  std::string stored = mime::serialize(structure);
  auto loaded = mime::deserialize(stored);
  require(loaded.has_value(), "the stored form reads back");
  require(*loaded == structure, "the stored form reads back unchanged");

  (void)mime::render_envelope(structure.envelope());
  (void)mime::render_bodystructure(structure, true);
  (void)mime::render_bodystructure(structure, false);
  return structure;
}

// A stored structure comes back from the database: it must be checked, never trusted.
inline void deserialize_checked(std::string_view stored) {
  auto structure = mime::deserialize(stored);
  if (structure) (void)mime::render_bodystructure(*structure, true);
}

// Header values as ENVELOPE and SEARCH see them, straight from the first lines of `raw`.
inline void decode_head(std::string_view raw) {
  std::string_view head = raw.substr(0, raw.find("\n\n"));
  (void)mime::parse_address_list(head);
  (void)mime::decode_header_value(head);
  (void)mime::sanitize_utf8(head);
}

// The input of both MIME targets: a mode byte, then a message (mode 0xff: a stored
// structure, for deserialize_checked). Parses and checks the message into `message`, decodes
// its head, and returns its structure; nullopt for an empty input or a stored structure.
inline std::optional<mime::MessageStructure> check_input(const uint8_t* data, size_t size,
                                                         std::string& message) {
  if (size == 0) return std::nullopt;
  std::string_view raw(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] == 0xff) {
    deserialize_checked(raw);
    return std::nullopt;
  }
  mime::MessageStructure structure = parse_checked(raw, data[0], message);
  decode_head(raw);
  return structure;
}

}  // namespace chapar::fuzz
