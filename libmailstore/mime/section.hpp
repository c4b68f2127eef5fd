// SPDX-License-Identifier: AGPL-3.0-or-later
// BODY[section] (RFC 9051 §6.4.5): which octets of the stored message a section names.
//
// Part numbers follow RFC 9051: the parts of a multipart are 1, 2, ...; a message that is
// not multipart has one part, 1; inside a message/rfc822 part p, p.1, p.2, ... are the parts
// of the encapsulated message (p.1 is its body when it is not multipart), and p.HEADER and
// p.TEXT are its header and body. p.MIME is the header of part p itself.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "libmailstore/mime/structure.hpp"

namespace chapar::mime {

struct SectionSpec {
  enum class Kind {
    kFull,             // [] or [p]: the whole message, or the body of part p
    kMime,             // [p.MIME]
    kHeader,           // [HEADER] or [p.HEADER]
    kHeaderFields,     // [HEADER.FIELDS (...)]
    kHeaderFieldsNot,  // [HEADER.FIELDS.NOT (...)]
    kText,             // [TEXT] or [p.TEXT]
  };
  std::vector<uint32_t> path;  // empty: the message itself
  Kind kind = Kind::kFull;
  std::vector<std::string> fields;  // header field names, upper case, for HEADER.FIELDS
};

// Parses the text between the brackets, e.g. "1.2.MIME", "HEADER.FIELDS (From To)" or "".
// The field list may hold atoms and quoted strings. kInvalidArgument on bad syntax
// (a zero part number, MIME without a part number, an empty field list).
Result<SectionSpec> parse_section(std::string_view text);

// The section as the IMAP response names it: "1.2.MIME", "HEADER.FIELDS (FROM TO)".
std::string section_name(const SectionSpec& spec);

struct SectionRange {
  bool found = false;  // false: the part does not exist, and the section is empty
  uint64_t offset = 0;
  uint64_t length = 0;
  // For HEADER.FIELDS[.NOT]: the header to filter with filter_header_fields().
  bool filter = false;
};

// Where the section is. HEADER/TEXT/HEADER.FIELDS of a part that is not message/rfc822
// name nothing (found = false), as do part numbers past the last part.
SectionRange find_section(const MessageStructure& structure, const SectionSpec& spec);

// The part that a part path names (nullptr when there is none).
const Part* find_part(const MessageStructure& structure, const std::vector<uint32_t>& path);

// HEADER.FIELDS / HEADER.FIELDS.NOT over a header block: the fields whose names are (or are
// not) in `fields`, each line ending in CRLF, then the empty line. With `negate` the empty
// line is there only when the header had one.
std::string filter_header_fields(std::string_view header, const std::vector<std::string>& fields,
                                 bool negate);

// The octets of a section of `message` (the stored message the structure was parsed from).
std::string section_content(std::string_view message, const SectionSpec& spec,
                            const SectionRange& range);

// <origin.count> partial fetch (RFC 9051 §6.4.5): the part of `content` it names.
std::string_view partial(std::string_view content, uint64_t origin, uint64_t count);

}  // namespace chapar::mime
