// SPDX-License-Identifier: AGPL-3.0-or-later
// Content-Transfer-Encoding (RFC 2045 §6) undone, for BINARY[section] and BINARY.SIZE
// (RFC 3516) and for searching bodies.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libmailstore/mime/structure.hpp"

namespace chapar::mime {

enum class TransferEncoding { k7bit8bit, kBinary, kQuotedPrintable, kBase64, kUnknown };

// The encoding a Content-Transfer-Encoding value names; case does not matter. Anything else
// (including "quoted printable", "x-uuencode" and the empty value) is kUnknown.
TransferEncoding parse_transfer_encoding(std::string_view value);

enum class DecodeError {
  kUnknownEncoding,  // IMAP: NO [UNKNOWN-CTE] (RFC 3516 §4.3)
  kInvalidData,      // a character that the encoding does not allow: NO [PARSE]
  kTruncated,        // base64 that stops inside a quantum
};

// "UNKNOWN-CTE" / "PARSE" / "SERVERBUG": the response code an IMAP server gives.
std::string_view decode_error_code(DecodeError error);

struct Decoded {
  std::string data;  // on error: what was decoded before the problem
  std::optional<DecodeError> error;
  bool ok() const { return !error; }
};

// Base64 (RFC 2045 §6.8): blanks and line ends are skipped, "=" padding ends the data and
// only blanks may follow it.
Decoded decode_base64(std::string_view encoded);
// Quoted-printable (RFC 2045 §6.7): soft line breaks are removed, trailing blanks dropped,
// line ends become CRLF; "=" not followed by two hex digits is invalid.
Decoded decode_quoted_printable(std::string_view encoded);
// Undoes `encoding` over a body.
Decoded decode_body(std::string_view body, TransferEncoding encoding);
// As a reader (and SEARCH) sees a body: broken quoted-printable escapes are kept as
// written, base64 is decoded up to the first problem, unknown encodings are left alone.
std::string decode_body_for_search(std::string_view body, TransferEncoding encoding);

// The encoding of a part as BINARY sees it: the last Content-Transfer-Encoding field of its
// header, read again from the message (a folded value counts as unknown).
TransferEncoding part_transfer_encoding(std::string_view message, const Part& part);

// BINARY[section] of part `part` (the body only; with `include_header` the part's header
// too, with Content-Transfer-Encoding replaced by "binary" where the body was decoded).
// Decoding is all or nothing for a message: when any part of `structure` has an unknown
// encoding or undecodable data, every BINARY fetch of the message fails the same way, the
// first problem in document order deciding the error.
Decoded binary_section(std::string_view message, const MessageStructure& structure,
                       const Part& part, bool include_header);

// BINARY.SIZE: the size binary_section would return. (A part number that names no part, such
// as the placeholder of an empty multipart, has size 0 and no error; find_part() tells.)
struct BinarySize {
  uint64_t size = 0;
  std::optional<DecodeError> error;
};
BinarySize binary_size(std::string_view message, const MessageStructure& structure,
                       const Part& part, bool include_header);

}  // namespace chapar::mime
