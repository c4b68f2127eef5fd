// SPDX-License-Identifier: AGPL-3.0-or-later
// Password login for the protocol sessions of all three daemons: account lookup, password
// verification off the event loop, throttling and the failure log line.
//
//  1. If earlier failures are on record for this address or user, wait the throttle's delay
//     before looking at the password at all (a client that hangs up early gains nothing).
//  2. Look the account up by full address; a user name without '@' means that user in the
//     only domain, when exactly one domain exists.
//  3. Verify the password on a worker thread (SessionHost::run_blocking). An unknown user is
//     checked against a dummy hash so that the answer takes as long. A password that matched
//     this account's stored hash a short while ago (auth::LoginCache) is not hashed again.
//  4. On failure (unknown user, wrong password, disabled account) record it, log one line
//       level=warning event=auth_failed conn=… ip=… user=… proto=… reason=…
//     (fail2ban: `event=auth_failed .* ip=<HOST> `), and answer after the throttle's delay.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/auth/throttle.hpp"
#include "common/net/session.hpp"
#include "common/result.hpp"
#include "libmailstore/store.hpp"
#include "libmailstore/types.hpp"

namespace chapar::store {

class Login {
 public:
  // `protocol` names the protocol in the log ("smtp", "pop3", "imap"). All references must
  // outlive this object; it belongs to a session, which its host keeps while work is pending.
  Login(Store& store, auth::LoginThrottle& throttle, net::SessionHost& host, std::string protocol);
  Login(const Login&) = delete;
  Login& operator=(const Login&) = delete;

  // Checks `password` for `user` and calls `done` on the loop thread, at most once and never
  // before verify() returns: the account, or kPermissionDenied for bad credentials (the
  // message says nothing of which part was wrong), or kUnavailable when the store failed.
  // One verification at a time; `done` is dropped if this Login is destroyed first.
  void verify(std::string user, std::string password, std::function<void(Result<Account>)> done);

 private:
  struct Attempt;
  void check(std::shared_ptr<Attempt> attempt);
  void finish(std::shared_ptr<Attempt> attempt, bool password_ok);
  // The address of `user`: itself, or user@domain when it has no '@' and one domain exists.
  std::string full_address(const std::string& user);

  Store& store_;
  auth::LoginThrottle& throttle_;
  net::SessionHost& host_;
  std::string protocol_;
  // Continuations hold a weak reference: they do nothing once this Login is gone.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace chapar::store
