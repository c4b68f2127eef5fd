// SPDX-License-Identifier: AGPL-3.0-or-later
// Base64 (RFC 4648 §4): the strict form for protocol lines (SASL, RFC 4954) and the lenient
// form for message bodies (RFC 2045 §6.8).
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace chapar::text {

// Padded base64 on one line.
std::string base64_encode(std::string_view data);

// Padded base64 in lines of at most `line_length` characters, each ending in CRLF
// (RFC 2045 §6.8: at most 76 characters per line).
std::string base64_encode_lines(std::string_view data, size_t line_length = 76);

// Strict: only the alphabet, padded to a multiple of four, unused bits zero, no whitespace.
// Fails with kInvalidArgument otherwise.
Result<std::string> base64_decode(std::string_view text);

// Lenient (RFC 2045 §6.8): skips characters outside the alphabet (line breaks, spaces),
// stops at the first '=', accepts missing padding and drops a dangling final character.
// Never fails.
std::string base64_decode_lenient(std::string_view text);

}  // namespace chapar::text
