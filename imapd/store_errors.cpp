// SPDX-License-Identifier: AGPL-3.0-or-later
// The one place where a store error becomes an IMAP response (RFC 5530 response codes). The
// client learns what it can act on; internal failures are logged with their detail and
// shown as Dovecot shows them.
#include "common/log.hpp"
#include "imapd/response.hpp"
#include "imapd/session.hpp"

namespace chapar::imap {

void Session::finish_store_error(const Error& error, std::string_view action) {
  switch (error.code) {
    case Errc::kNotFound:
      // RFC 9051 §6.3.12, §6.4.7: a missing target of APPEND, COPY or MOVE is TRYCREATE.
      if (action == "append" || action == "copy" || action == "move") {
        return finish_no(code::kTryCreate, "Mailbox doesn't exist.");
      }
      return finish_no(code::kNonExistent, "Mailbox doesn't exist.");
    case Errc::kAlreadyExists:
      return finish_no(code::kAlreadyExists, "Mailbox already exists.");
    case Errc::kPermissionDenied:
      return finish_no(code::kCannot, error.message.empty() ? "Not permitted." : error.message);
    case Errc::kInvalidArgument:
      return finish_no(code::kCannot, error.message.empty() ? "Invalid request." : error.message);
    case Errc::kQuotaExceeded:
      return finish_no(code::kOverQuota, "Quota exceeded.");
    case Errc::kLimitExceeded:
      return finish_no(code::kLimit, "Limit exceeded.");
    case Errc::kBusy:
      return finish_no(code::kInUse, "Mailbox is in use, try again later.");
    case Errc::kUnavailable:
      return finish_no(code::kUnavailable, "Temporary failure, try again later.");
    case Errc::kIo:
    case Errc::kInternal:
      break;
  }
  host_.logger().error("store_error", {{"action", action}, {"error", error.message}});
  finish_no(code::kServerBug, "Internal error occurred. Refer to server log for more information.");
}

}  // namespace chapar::imap
