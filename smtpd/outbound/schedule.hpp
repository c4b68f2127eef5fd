// SPDX-License-Identifier: AGPL-3.0-or-later
// What an attempt means for a queue entry: each recipient's new state, when to try again,
// and which notifications the sender gets (RFC 3461 NOTIFY). Pure, so that retries, give-up
// and delay warnings are tested without a clock.
//
// - Delivered and permanently failed recipients are final; failures are reported.
// - Temporarily failed recipients are tried again after the next of `retry_delays` (the
//   last one repeats), the final try no later than `give_up_after` from arrival; a failure
//   at or after that time is final and reported with the last reason.
// - Once `warn_after` has passed, the first temporary failure of a recipient is reported
//   as a delay, once.
// - Success is reported (Action: relayed) only when asked for and the receiving server did
//   not take the DSN request along (RFC 3461 §5.2.2.3).
// - Nothing is reported for a message with the null sender: no loops (RFC 3461 §6.2).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "libmailstore/types.hpp"
#include "smtpd/outbound/client_session.hpp"
#include "smtpd/outbound/dsn.hpp"

namespace chapar::smtp::outbound {

// What one attempt did for one recipient.
struct AttemptResult {
  RecipientResult result;
  std::string remote_mta;      // the host that answered, empty when none did
  bool dsn_passed_on = false;  // the server accepted the DSN parameters (RFC 3461)
};

struct Decision {
  store::QueueEntry entry;  // with the new states, attempts and next_attempt
  bool finished = false;    // no recipient pending: the entry can go
  std::vector<DsnRecipient> failed;
  std::vector<DsnRecipient> delayed;
  std::vector<DsnRecipient> relayed;
  int64_t retry_until = 0;
};

// `results` has one slot per recipient of `entry`, empty for those not tried this time.
Decision decide(const store::QueueEntry& entry,
                const std::vector<std::optional<AttemptResult>>& results,
                const config::Outbound& config, int64_t now);

// Whether a NOTIFY value asks for `kind` ("SUCCESS", "FAILURE", "DELAY"); RFC 3461 §4.1:
// without NOTIFY, failures and delays are reported.
bool notify_wants(std::string_view notify, std::string_view kind);

}  // namespace chapar::smtp::outbound
