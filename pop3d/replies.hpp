// SPDX-License-Identifier: AGPL-3.0-or-later
// The fixed replies of the POP3 session, worded after Dovecot's so that clients and people
// who know it recognise them. Response codes in brackets: RFC 2449 §8 ([IN-USE]) and
// RFC 3206 ([SYS/TEMP], [SYS/PERM], [AUTH]). [LOGIN-DELAY] is not used: failed logins are
// slowed down (store::Login) rather than refused. Replies without CRLF.
#pragma once

#include <string_view>

namespace chapar::pop3::reply {

inline constexpr std::string_view kOk = "+OK";
inline constexpr std::string_view kLoggedIn = "+OK Logged in.";
inline constexpr std::string_view kLoggingOut = "+OK Logging out.";
inline constexpr std::string_view kLoggingOutDeleted = "+OK Logging out, messages deleted.";
inline constexpr std::string_view kBeginTls = "+OK Begin TLS negotiation now.";
inline constexpr std::string_view kCapabilities = "+OK Capability list follows";
inline constexpr std::string_view kMechanisms = "+OK Supported mechanisms follow";
inline constexpr std::string_view kMarkedDeleted = "+OK Marked to be deleted.";
inline constexpr std::string_view kEnd = ".";

inline constexpr std::string_view kUnknownCommand = "-ERR Unknown command.";
inline constexpr std::string_view kNotLoggedIn = "-ERR Not logged in.";
inline constexpr std::string_view kAlreadyLoggedIn = "-ERR Already logged in.";
inline constexpr std::string_view kLineTooLong = "-ERR Line too long.";
inline constexpr std::string_view kNoUsername = "-ERR No username given.";
inline constexpr std::string_view kInvalidMessageNumber = "-ERR Invalid message number.";
inline constexpr std::string_view kMessageDeleted = "-ERR Message is deleted.";
inline constexpr std::string_view kMessageGone = "-ERR Message was expunged by another client.";
inline constexpr std::string_view kInvalidLineCount = "-ERR Invalid number of lines.";
inline constexpr std::string_view kTlsActive = "-ERR TLS is already active.";
inline constexpr std::string_view kTlsUnavailable = "-ERR TLS support isn't enabled.";

// RFC 3206 §4: [AUTH] says the credentials, not the server, are the problem.
inline constexpr std::string_view kPlaintextDisallowed =
    "-ERR [AUTH] Plaintext authentication disallowed on non-secure (SSL/TLS) connections.";
inline constexpr std::string_view kAuthFailed = "-ERR [AUTH] Authentication failed.";
inline constexpr std::string_view kUnsupportedMechanism =
    "-ERR Unsupported authentication mechanism.";
inline constexpr std::string_view kAuthAborted = "-ERR Authentication aborted by client.";
inline constexpr std::string_view kInvalidSaslResponse =
    "-ERR Invalid authentication data (bad base64 or format).";
// RFC 2449 §8.1.2: the credentials were right, but another session holds the maildrop.
inline constexpr std::string_view kInUse =
    "-ERR [IN-USE] Mailbox is locked by another POP3 session.";
// RFC 3206 §4: the server, not the client, is at fault.
inline constexpr std::string_view kTemporaryFailure =
    "-ERR [SYS/TEMP] Internal error occurred. Refer to server log for more information.";
inline constexpr std::string_view kPermanentFailure =
    "-ERR [SYS/PERM] The mailbox can't be opened. Refer to server log for more information.";
inline constexpr std::string_view kNotAllDeleted =
    "-ERR [SYS/TEMP] Some deleted messages were not removed.";
inline constexpr std::string_view kShuttingDown = "-ERR [SYS/TEMP] Server shutting down.";

}  // namespace chapar::pop3::reply
