// SPDX-License-Identifier: AGPL-3.0-or-later
// Address lists (RFC 5322 §3.4, with the obsolete forms of §4.4) as IMAP ENVELOPE shows them.
#pragma once

#include <string_view>
#include <vector>

#include "libmailstore/mime/structure.hpp"

namespace chapar::mime {

// Parses an address-list header value: mailboxes, name-addrs with routes, groups (a start
// entry with the group name and an end entry), quoted strings and comments (a comment
// after a bare addr-spec becomes its display name). Parts that are missing or broken are
// filled in with MISSING_MAILBOX, MISSING_DOMAIN, SYNTAX_ERROR or INVALID_ROUTE, so that a
// client always gets four fields per entry. Never fails; an empty value gives no entries.
std::vector<Address> parse_address_list(std::string_view value);

}  // namespace chapar::mime
