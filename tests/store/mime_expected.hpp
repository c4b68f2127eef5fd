// SPDX-License-Identifier: AGPL-3.0-or-later
// Reading the recorded answers of the reference IMAP server (corpus FORMAT.md §1): blocks of
// "C: " command, "S: " untagged responses (with literals) and "R: " status, and the
// attribute/value pairs of a FETCH response.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chapar::test {

struct ExpectedBlock {
  std::string command;                 // without "C: " and the final CRLF
  std::vector<std::string> responses;  // without "S: " and the final CRLF
  std::string status;                  // without "R: ", e.g. "OK Fetch completed."
};

// Returns nothing when the file does not follow the format.
std::optional<std::vector<ExpectedBlock>> parse_expected(std::string_view bytes);

struct FetchItem {
  std::string name;   // e.g. "BODY[1.MIME]", "BODY[1]<0>", "ENVELOPE"
  std::string value;  // the value exactly as sent (a literal with its {N} prefix)
};

// "* n FETCH (NAME value NAME value ...)" into its items; nothing if it is not a FETCH.
std::optional<std::vector<FetchItem>> parse_fetch(std::string_view response);

// The content of an IMAP string value: a literal's octets or a quoted string unescaped;
// nothing for NIL or anything else.
std::optional<std::string> imap_string_content(std::string_view value);

}  // namespace chapar::test
