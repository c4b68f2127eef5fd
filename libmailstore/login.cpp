// SPDX-License-Identifier: AGPL-3.0-or-later
#include "libmailstore/login.hpp"

#include <openssl/crypto.h>

#include <optional>

#include "common/auth/password.hpp"
#include "common/log.hpp"
#include "common/text/ascii.hpp"

namespace chapar::store {

struct Login::Attempt {
  std::string user;     // as the client gave it, for the log
  std::string address;  // the full address looked up
  std::string password;
  std::optional<Account> account;
  std::function<void(Result<Account>)> done;
  bool ok = false;

  ~Attempt() { OPENSSL_cleanse(password.data(), password.size()); }
};

Login::Login(Store& store, auth::LoginThrottle& throttle, net::SessionHost& host,
             std::string protocol)
    : store_(store), throttle_(throttle), host_(host), protocol_(std::move(protocol)) {}

void Login::verify(std::string user, std::string password,
                   std::function<void(Result<Account>)> done) {
  auto attempt = std::make_shared<Attempt>();
  attempt->address = text::ascii_lowercase(full_address(user));
  attempt->user = std::move(user);
  attempt->password = std::move(password);
  attempt->done = std::move(done);
  const std::string& ip = host_.peer().address;
  auto delay = throttle_.delay_for(ip, attempt->address, host_.now());
  std::weak_ptr<bool> alive = alive_;
  host_.run_later(delay, [this, alive, attempt] {
    if (alive.expired()) return;
    check(attempt);
  });
}

std::string Login::full_address(const std::string& user) {
  if (user.find('@') != std::string::npos) return user;
  auto domains = store_.list_domains();
  if (domains && domains->size() == 1) return user + "@" + domains->front().name;
  return user;
}

void Login::check(std::shared_ptr<Attempt> attempt) {
  auto account = store_.find_account(attempt->address);
  if (!account && account.error().code != Errc::kNotFound &&
      account.error().code != Errc::kInvalidArgument) {
    host_.logger().error("auth_store_error",
                         {{"proto", protocol_}, {"error", account.error().message}});
    attempt->done(fail(Errc::kUnavailable, "the account store is unavailable"));
    return;
  }
  // An unknown user still costs one hash check: against the dummy hash.
  std::string hash;
  if (account) {
    hash = account->password_hash;
    attempt->account = std::move(*account);
  }
  auth::LoginCache& verified = throttle_.verified_logins();
  if (attempt->account && verified.recall(attempt->address, hash, attempt->password, host_.now())) {
    finish(attempt, true);
    return;
  }
  std::weak_ptr<bool> alive = alive_;
  host_.run_blocking(
      [attempt, hash] { attempt->ok = auth::verify_password(attempt->password, hash); },
      [this, alive, attempt, &verified, hash] {
        if (alive.expired()) return;
        if (attempt->ok && attempt->account) {
          verified.remember(attempt->address, hash, attempt->password, host_.now());
        }
        finish(attempt, attempt->ok);
      });
}

void Login::finish(std::shared_ptr<Attempt> attempt, bool password_ok) {
  const std::string& ip = host_.peer().address;
  if (password_ok && attempt->account && !attempt->account->disabled) {
    throttle_.record_success(ip, attempt->address, host_.now());
    Account account = std::move(*attempt->account);
    attempt->done(std::move(account));
    return;
  }
  std::string_view reason = !attempt->account            ? "unknown_user"
                            : attempt->account->disabled ? "disabled"
                                                         : "bad_password";
  throttle_.record_failure(ip, attempt->address, host_.now());
  host_.logger().warning(
      "auth_failed",
      {{"ip", ip}, {"user", attempt->user}, {"proto", protocol_}, {"reason", reason}});
  auto delay = throttle_.delay_for(ip, attempt->address, host_.now());
  std::weak_ptr<bool> alive = alive_;
  host_.run_later(delay, [alive, attempt] {
    if (alive.expired()) return;
    attempt->done(fail(Errc::kPermissionDenied, "authentication failed"));
  });
}

}  // namespace chapar::store
