// SPDX-License-Identifier: AGPL-3.0-or-later
// IMAP string syntax (RFC 9051 §4.3): NIL, quoted strings and literals, chosen the way
// mature servers choose them so that clients see byte-identical responses.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace chapar::mime {

// A string: quoted ("\"" and "\\" escaped) unless it holds CR, LF, an 8-bit octet or more
// than four characters that need escaping; then a literal {N}.
void append_imap_string(std::string& out, std::string_view s);
// As append_imap_string, or NIL.
void append_imap_nstring(std::string& out, const std::optional<std::string>& s);
// As append_imap_nstring, after removing CR and LF (a space replaces a line end that is not
// followed by a blank, so that unfolding never glues two words together).
void append_imap_nstring_nolf(std::string& out, const std::optional<std::string>& s);
// An atom when the string is a safe astring (and not "NIL"), else a string.
void append_imap_astring(std::string& out, std::string_view s);
// A quoted string; CR, LF and 8-bit octets are left out.
void append_imap_quoted(std::string& out, std::string_view s);
// Text meant for people (ENVELOPE subject and names): tabs, CR and LF become spaces, runs of
// blanks shrink to one, blanks at either end go, NUL becomes 0x80. Written quoted when
// nothing had to change, otherwise as a literal.
void append_imap_string_for_humans(std::string& out, std::string_view s);

// IMAP literals carry no NUL (RFC 9051 §4.3): body octets 0x00 are sent as 0x80.
std::string replace_nuls(std::string_view s);

}  // namespace chapar::mime
