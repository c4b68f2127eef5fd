// SPDX-License-Identifier: AGPL-3.0-or-later
// What the header fields of a part mean for its BODYSTRUCTURE (RFC 2045 §5-6, RFC 2183,
// RFC 3066 Content-Language, RFC 2557 Content-Location, RFC 1864 Content-MD5) and for the
// ENVELOPE of the message it starts (RFC 9051 §7.5.2).
#pragma once

#include <string>
#include <string_view>

#include "libmailstore/mime/header_reader.hpp"
#include "libmailstore/mime/structure.hpp"

namespace chapar::mime {

// A header value as a string: NUL octets become U+FFFD so that the value stays text.
std::string header_string(std::string_view value);

// Applies a "Content-*" field. The first occurrence of each field counts (a second
// Content-Disposition replaces one that had no parameters, as clients have come to expect).
void apply_content_field(Part& part, const HeaderField& field);

// Forgets every Content-* fact: a part that is not MIME (RFC 2045 §4) is text/plain.
void clear_content_fields(Part& part);

// Applies an envelope field. Repeated address fields add up; for the other fields the last
// occurrence counts.
void apply_envelope_field(Envelope& envelope, const HeaderField& field);

}  // namespace chapar::mime
