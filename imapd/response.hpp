// SPDX-License-Identifier: AGPL-3.0-or-later
// Writing IMAP responses (RFC 9051 §4, §7): strings quoted where a quoted string can carry
// them and sent as literals where it cannot, mailbox names in modified UTF-7 for IMAP4rev1
// clients (RFC 3501 §5.1.3) and in UTF-8 once the client has enabled UTF8=ACCEPT or
// IMAP4rev2 (RFC 6855 §3, RFC 9051 §5.1). Pure functions over strings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chapar::imap {

// Status of a completion (RFC 9051 §7.1).
inline constexpr std::string_view kOk = "OK";
inline constexpr std::string_view kNo = "NO";
inline constexpr std::string_view kBad = "BAD";

// Response codes (RFC 9051 §7.1, RFC 4315, RFC 7162, RFC 7889, RFC 3516, RFC 5530).
namespace code {
inline constexpr std::string_view kAlert = "ALERT";
inline constexpr std::string_view kAlreadyExists = "ALREADYEXISTS";
inline constexpr std::string_view kAuthenticationFailed = "AUTHENTICATIONFAILED";
inline constexpr std::string_view kCannot = "CANNOT";
inline constexpr std::string_view kClientBug = "CLIENTBUG";
inline constexpr std::string_view kClosed = "CLOSED";
inline constexpr std::string_view kContactAdmin = "CONTACTADMIN";
inline constexpr std::string_view kInUse = "INUSE";
inline constexpr std::string_view kLimit = "LIMIT";
inline constexpr std::string_view kNonExistent = "NONEXISTENT";
inline constexpr std::string_view kNoPerm = "NOPERM";
inline constexpr std::string_view kOverQuota = "OVERQUOTA";
inline constexpr std::string_view kParse = "PARSE";
inline constexpr std::string_view kPrivacyRequired = "PRIVACYREQUIRED";
inline constexpr std::string_view kReadOnly = "READ-ONLY";
inline constexpr std::string_view kReadWrite = "READ-WRITE";
inline constexpr std::string_view kServerBug = "SERVERBUG";
inline constexpr std::string_view kTooBig = "TOOBIG";
inline constexpr std::string_view kTryCreate = "TRYCREATE";
inline constexpr std::string_view kUnavailable = "UNAVAILABLE";
inline constexpr std::string_view kUnknownCte = "UNKNOWN-CTE";
inline constexpr std::string_view kExpungeIssued = "EXPUNGEISSUED";
inline constexpr std::string_view kHasChildren = "HASCHILDREN";
}  // namespace code

// "tag STATUS [CODE] text\r\n"; no brackets when `code` is empty. The tag "*" makes an
// untagged status response.
std::string status_line(std::string_view tag, std::string_view status, std::string_view code,
                        std::string_view text);

// Appends `value` as an IMAP string: quoted when every octet may appear in a quoted string
// (no CR, LF or NUL; octets above 0x7f only as valid UTF-8 and only when `utf8`), as a
// literal otherwise. A NUL cannot be sent in a literal either; it becomes 0x80 there, as
// Dovecot does.
void append_string(std::string& out, std::string_view value, bool utf8);
// NIL for nullopt.
void append_nstring(std::string& out, std::optional<std::string_view> value, bool utf8);
// An atom when `value` is a non-empty atom (and not "NIL"), a string otherwise.
void append_astring(std::string& out, std::string_view value, bool utf8);
// Always quoted (with escapes); for values known to be 7-bit text without CR/LF.
void append_quoted(std::string& out, std::string_view value);
// "{n}\r\n" and the bytes, NUL octets turned into 0x80.
void append_literal(std::string& out, std::string_view bytes);
// The decimal digits of `n`.
void append_number(std::string& out, uint64_t n);

bool is_valid_utf8(std::string_view text);

// Mailbox names as the client sees them. `utf8` is true once UTF8=ACCEPT or IMAP4rev2 is
// enabled: names are then sent as UTF-8; otherwise non-ASCII names are sent and read in
// modified UTF-7.
std::string encode_mailbox_name(std::string_view name, bool utf8);
// The UTF-8 name for what the client sent; nullopt when it is not valid modified UTF-7
// (or, with `utf8`, not valid UTF-8).
std::optional<std::string> decode_mailbox_name(std::string_view wire, bool utf8);
// Modified UTF-7 (RFC 3501 §5.1.3) both ways.
std::string mutf7_encode(std::string_view utf8);
std::optional<std::string> mutf7_decode(std::string_view mutf7);
// Appends a mailbox name as an astring in the client's encoding.
void append_mailbox(std::string& out, std::string_view name, bool utf8);

}  // namespace chapar::imap
