// SPDX-License-Identifier: AGPL-3.0-or-later
// Header fields of a message or MIME part, one at a time (RFC 5322 §2.2): a field is its
// first line plus every following line that begins with a space or a tab. Lines end at LF
// (a CR before it is part of the line end); a line without a colon is a field whose name is
// the whole line, so that no octet of a broken header is lost.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace chapar::mime {

struct HeaderField {
  std::string_view name;  // before the colon, trailing blanks removed
  bool has_colon = false;
  // The unfolded value: the first line after the colon with leading blanks removed, then
  // "\n" and each continuation line as it is (with its leading blanks).
  std::string value;
  size_t start = 0;         // the field's first octet
  size_t end = 0;           // after its last line end
  size_t newline_size = 0;  // of the last line: 2 (CRLF), 1 (LF) or 0 (none, at the end)
  bool has_nuls = false;
};

enum class HeaderStep {
  kField,        // a field was read
  kEndOfHeader,  // the empty line that ends the header was read
  kEnd,          // no more input
};

// Reads the field that begins at `pos` (a line start). On return `next` is where the
// following line begins.
HeaderStep read_header_field(std::string_view data, size_t pos, HeaderField& field, size_t& next);

// Whether an empty line ("\n" or "\r\n") begins at `pos`.
bool is_blank_line(std::string_view data, size_t pos);

bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view s, std::string_view prefix);

}  // namespace chapar::mime
