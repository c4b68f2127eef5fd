// SPDX-License-Identifier: AGPL-3.0-or-later
// SMTP replies by name: the basic code (RFC 5321 §4.2) with its enhanced status code
// (RFC 3463, RFC 5248). RFC 2034 §4: every 2xx, 4xx and 5xx reply other than the greeting and
// the answer to EHLO/HELO carries the enhanced code; 3xx replies carry none.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace chapar::smtp {

struct ReplyCode {
  uint16_t code;
  std::string_view status;  // enhanced status code, empty for 3xx
};

// 2xx
inline constexpr ReplyCode kHelp214{214, "2.0.0"};
inline constexpr ReplyCode kReadyForTls220{220, "2.0.0"};
inline constexpr ReplyCode kClosing221{221, "2.0.0"};
inline constexpr ReplyCode kAuthSucceeded235{235, "2.7.0"};
inline constexpr ReplyCode kOk250{250, "2.0.0"};
inline constexpr ReplyCode kSenderOk250{250, "2.1.0"};
inline constexpr ReplyCode kRecipientOk250{250, "2.1.5"};
inline constexpr ReplyCode kCannotVerify252{252, "2.0.0"};
// 3xx
inline constexpr ReplyCode kAuthChallenge334{334, ""};
inline constexpr ReplyCode kStartMailInput354{354, ""};
// 4xx
inline constexpr ReplyCode kTimeout421{421, "4.4.2"};
inline constexpr ReplyCode kShuttingDown421{421, "4.3.2"};
inline constexpr ReplyCode kTooManyErrors421{421, "4.7.0"};
inline constexpr ReplyCode kTooManyMessages421{421, "4.7.0"};
inline constexpr ReplyCode kLocalError451{451, "4.3.0"};
inline constexpr ReplyCode kMailboxFull452{452, "4.2.2"};
inline constexpr ReplyCode kInsufficientStorage452{452, "4.3.1"};
inline constexpr ReplyCode kTooManyRecipients452{452, "4.5.3"};
inline constexpr ReplyCode kTemporaryAuthFailure454{454, "4.7.0"};
inline constexpr ReplyCode kTlsNotAvailable454{454, "4.7.0"};
// 5xx
inline constexpr ReplyCode kUnrecognized500{500, "5.5.2"};
inline constexpr ReplyCode kLineTooLong500{500, "5.5.2"};
inline constexpr ReplyCode kAuthLineTooLong500{500, "5.5.6"};
inline constexpr ReplyCode kSyntax501{501, "5.5.4"};
inline constexpr ReplyCode kBadSenderSyntax501{501, "5.1.7"};
inline constexpr ReplyCode kBadRecipientSyntax501{501, "5.1.3"};
inline constexpr ReplyCode kInvalidHostname501{501, "5.5.2"};
inline constexpr ReplyCode kBadBase64_501{501, "5.5.2"};
inline constexpr ReplyCode kAuthCancelled501{501, "5.7.0"};
inline constexpr ReplyCode kNotImplemented502{502, "5.5.1"};
inline constexpr ReplyCode kBadSequence503{503, "5.5.1"};
inline constexpr ReplyCode kMechanismUnsupported504{504, "5.5.4"};
inline constexpr ReplyCode kAuthRequired530{530, "5.7.0"};
inline constexpr ReplyCode kStartTlsFirst530{530, "5.7.0"};
inline constexpr ReplyCode kEncryptionNeeded530{530, "5.7.10"};
inline constexpr ReplyCode kAuthFailed535{535, "5.7.8"};
inline constexpr ReplyCode kUserUnknown550{550, "5.1.1"};
inline constexpr ReplyCode kNonAsciiSender550{550, "5.6.7"};
inline constexpr ReplyCode kExceedsQuota552{552, "5.2.2"};
inline constexpr ReplyCode kMessageTooBig552{552, "5.3.4"};
inline constexpr ReplyCode kSenderNotOwned553{553, "5.7.1"};
inline constexpr ReplyCode kNonAsciiRecipient553{553, "5.6.7"};
inline constexpr ReplyCode kRelayDenied554{554, "5.7.1"};
inline constexpr ReplyCode kContentRejected554{554, "5.6.0"};
inline constexpr ReplyCode kTlsAlreadyActive554{554, "5.5.1"};
inline constexpr ReplyCode kUnknownParameter555{555, "5.5.4"};

// What refuses a command: the reply and its text.
struct Rejection {
  ReplyCode reply;
  std::string text;
};

// "250 2.1.0 text\r\n". Text must not contain CR or LF.
std::string format_reply(ReplyCode reply, std::string_view text);
// A reply without the enhanced status code (greeting, EHLO/HELO): "220 text\r\n".
std::string format_plain_reply(uint16_t code, std::string_view text);
// A multiline reply (RFC 5321 §4.2.1): "250-first\r\n250 last\r\n", each line prefixed with
// `status` when it is not empty (RFC 2034 §4). `lines` must not be empty.
std::string format_multiline(uint16_t code, std::string_view status,
                             std::span<const std::string> lines);

}  // namespace chapar::smtp
