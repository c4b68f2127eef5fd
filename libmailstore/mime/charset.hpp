// SPDX-License-Identifier: AGPL-3.0-or-later
// Text in any charset made UTF-8, for SEARCH (RFC 9051 §6.4.4): encoded words in header
// values (RFC 2047), RFC 2231 parameter values, and the bodies of text parts.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"
#include "libmailstore/mime/structure.hpp"

namespace chapar::mime {

// Converts `bytes` from `charset` (any name iconv knows; "us-ascii" and "utf-8" directly).
// Octets that are invalid in the charset become U+FFFD. kNotFound for an unknown charset.
Result<std::string> to_utf8(std::string_view bytes, std::string_view charset);

// UTF-8 as it is, with every invalid sequence replaced by U+FFFD.
std::string sanitize_utf8(std::string_view bytes);

// A header value for searching: unfolded, RFC 2047 encoded words decoded (the blanks between
// two adjacent encoded words dropped, RFC 2047 §6.2), everything UTF-8. Malformed or unknown
// encoded words are kept as written.
std::string decode_header_value(std::string_view raw);

// An RFC 2231 §4 extended value "charset'language'%XX..." as UTF-8.
std::string decode_rfc2231_value(std::string_view value);

// The text of a leaf part for searching: transfer encoding undone, charset (the "charset"
// parameter, us-ascii by default) converted. Undecodable content is searched as it is.
std::string part_text_utf8(std::string_view message, const Part& part);

}  // namespace chapar::mime
