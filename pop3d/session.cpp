// SPDX-License-Identifier: AGPL-3.0-or-later
#include "pop3d/session.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "common/log.hpp"
#include "pop3d/replies.hpp"

namespace chapar::pop3 {
namespace {

constexpr std::string_view kGreeting = "+OK Chapar ready.";

uint8_t state_bit(State state) {
  return static_cast<uint8_t>(state);
}

}  // namespace

// Indexed by Verb, in the order of its enumerators.
const Session::Handler Session::kHandlers[] = {
    &Session::cmd_user, &Session::cmd_pass, &Session::cmd_auth, &Session::cmd_stls,
    &Session::cmd_capa, &Session::cmd_quit, &Session::cmd_stat, &Session::cmd_list,
    &Session::cmd_retr, &Session::cmd_dele, &Session::cmd_noop, &Session::cmd_rset,
    &Session::cmd_top,  &Session::cmd_uidl,
};
static_assert(std::size(kCommands) == static_cast<size_t>(Verb::kUidl) + 1);

Session::Session(net::SessionHost& host, Services services)
    : host_(host),
      services_(services),
      login_(services.store, services.throttle, host, "pop3"),
      reader_(net::LineReaderOptions{services.config.pop3d.max_line_length, true}) {}

Session::~Session() = default;

void Session::start() {
  send_line(kGreeting);
}

void Session::receive(std::string_view bytes) {
  if (closing_) return;
  reader_.feed(bytes);
  process();
}

std::chrono::milliseconds Session::idle_timeout() const {
  return services_.config.pop3d.idle_timeout;
}

void Session::process() {
  if (processing_) return;  // a completion that came at once: the loop below carries on
  processing_ = true;
  // After on_shutdown() the command under way finishes and nothing more is started.
  while (wait_ == Wait::kNone && !closing_ && !shutdown_) {
    std::optional<net::Line> line = reader_.next();
    if (!line) break;
    if (line->overlong) {
      // RFC 2449 §4: commands are up to 255 octets; the configured limit is at least that.
      sasl_.reset();
      send_line(reply::kLineTooLong);
      continue;
    }
    dispatch(line->text);
  }
  processing_ = false;
  if (shutdown_ && wait_ == Wait::kNone && !closing_) close_with(reply::kShuttingDown);
}

void Session::dispatch(std::string_view line) {
  if (sasl_) {
    sasl_reply(sasl_->respond(line));
    return;
  }
  CommandLine command = parse_command(line);
  const CommandSpec* spec = find_command(command.keyword);
  if (spec == nullptr) {
    send_line(reply::kUnknownCommand);
    return;
  }
  // RFC 1939 §3: a command in the wrong state gets a negative answer.
  if ((spec->states & state_bit(state_)) == 0) {
    send_line(state_ == State::kAuthorization ? reply::kNotLoggedIn : reply::kAlreadyLoggedIn);
    return;
  }
  // RFC 2595 §2.2-§2.3: no password in the clear before TLS, except on loopback where
  // nobody can listen.
  if (spec->needs_secure && !plaintext_allowed()) {
    send_line(reply::kPlaintextDisallowed);
    return;
  }
  if (command.args.size() < spec->min_args || command.args.size() > spec->max_args) {
    send_line(fmt::format("-ERR Syntax: {}", spec->syntax));
    return;
  }
  (this->*kHandlers[static_cast<size_t>(spec->verb)])(command);
}

void Session::finish_wait() {
  wait_ = Wait::kNone;
  process();
}

void Session::send_line(std::string_view line) {
  std::string out;
  out.reserve(line.size() + 2);
  out.append(line);
  out.append("\r\n");
  host_.send(out);
}

void Session::close_with(std::string_view line) {
  send_line(line);
  drop_connection();
}

void Session::drop_connection() {
  closing_ = true;
  transfer_.reset();
  lock_ = store::MaildropLock();
  host_.close();
}

bool Session::plaintext_allowed() const {
  return host_.tls().has_value() || host_.peer().loopback;
}

void Session::on_tls_started() {
  if (wait_ != Wait::kTls) return;
  finish_wait();
}

void Session::on_writable() {
  if (wait_ == Wait::kStream && pump()) finish_wait();
}

void Session::on_idle_timeout() {
  // RFC 1939 §3: the autologout timer closes the connection without a response and without
  // entering the UPDATE state. A QUIT already committing is left to finish and answer.
  if (wait_ == Wait::kUpdate || closing_) return;
  host_.logger().info("idle_timeout", {{"user", account_}});
  drop_connection();
}

void Session::on_shutdown() {
  shutdown_ = true;
  if (wait_ == Wait::kNone && !closing_ && !processing_) close_with(reply::kShuttingDown);
}

void Session::on_disconnect() {
  if (state_ == State::kTransaction) {
    host_.logger().info("disconnected", {{"user", account_}, {"retrieved", retrieved_}});
  }
  transfer_.reset();
  closing_ = true;
  // A removal under way keeps the maildrop until it is committed; the host keeps the session
  // until then.
  if (wait_ != Wait::kUpdate) lock_ = store::MaildropLock();
}

// ---- AUTHORIZATION ----

void Session::cmd_user(const CommandLine& command) {
  user_ = std::string(command.args[0]);
  send_line(reply::kOk);
}

void Session::cmd_pass(const CommandLine& command) {
  // RFC 1939 §7: PASS follows a successful USER.
  if (!user_) {
    send_line(reply::kNoUsername);
    return;
  }
  std::string username = std::move(*user_);
  user_.reset();
  authenticate(std::move(username), std::string(command.args[0]), "USER");
}

void Session::cmd_auth(const CommandLine& command) {
  if (command.args.empty()) {
    // RFC 1734 clients ask for the mechanisms this way; RFC 5034 clients use CAPA.
    host_.send(fmt::format("{}\r\nPLAIN\r\nLOGIN\r\n.\r\n", reply::kMechanisms));
    return;
  }
  std::optional<auth::SaslMechanism> mechanism = auth::parse_sasl_mechanism(command.args[0]);
  if (!mechanism) {
    send_line(reply::kUnsupportedMechanism);
    return;
  }
  sasl_mechanism_ = *mechanism == auth::SaslMechanism::kPlain ? "PLAIN" : "LOGIN";
  sasl_.emplace(*mechanism);
  std::optional<std::string_view> initial;
  if (command.args.size() == 2) initial = command.args[1];
  sasl_reply(sasl_->start(initial));
}

void Session::sasl_reply(const auth::SaslStep& step) {
  switch (step.kind) {
    case auth::SaslStep::Kind::kChallenge:
      // RFC 5034 §4: a continuation is "+ " and the base64 challenge.
      send_line(fmt::format("+ {}", step.challenge));
      return;
    case auth::SaslStep::Kind::kDone: {
      sasl_.reset();
      auth::Credentials credentials = step.credentials;
      authenticate(std::move(credentials.user), std::move(credentials.password), sasl_mechanism_);
      return;
    }
    case auth::SaslStep::Kind::kFailed:
      sasl_.reset();
      switch (step.error) {
        case auth::SaslError::kCancelled:
          // RFC 5034 §4: a cancelled exchange is answered -ERR.
          send_line(reply::kAuthAborted);
          return;
        case auth::SaslError::kMalformed:
          send_line(reply::kInvalidSaslResponse);
          return;
        case auth::SaslError::kAuthzidMismatch:
          send_line(reply::kAuthFailed);
          return;
      }
      return;
  }
}

void Session::cmd_stls(const CommandLine&) {
  if (host_.tls()) {
    send_line(reply::kTlsActive);
    return;
  }
  if (host_.listener().tls != net::TlsMode::kStartTls) {
    send_line(reply::kTlsUnavailable);
    return;
  }
  send_line(reply::kBeginTls);
  // RFC 2595 §3.1 (and RFC 3207 §4.2): whatever the client sent behind STLS was sent in the
  // clear and may have been injected; it is dropped, as is what USER remembered.
  reader_.clear();
  user_.reset();
  wait_ = Wait::kTls;
  host_.start_tls();
}

void Session::cmd_capa(const CommandLine&) {
  // RFC 2449 §5: the capabilities of the current state.
  std::string out = fmt::format("{}\r\n", reply::kCapabilities);
  out.append("TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n");
  // RFC 2449 §6.7: messages stay until the client deletes them.
  out.append("EXPIRE NEVER\r\nIMPLEMENTATION Chapar\r\n");
  if (state_ == State::kAuthorization) {
    // Like Dovecot: the password mechanisms appear only where they would be accepted, and
    // STLS only where it can be used (RFC 2595 §4).
    if (plaintext_allowed()) out.append("USER\r\nSASL PLAIN LOGIN\r\n");
    if (!host_.tls() && host_.listener().tls == net::TlsMode::kStartTls) out.append("STLS\r\n");
  }
  out.append(".\r\n");
  host_.send(out);
}

void Session::cmd_quit(const CommandLine&) {
  if (state_ == State::kAuthorization) {
    close_with(reply::kLoggingOut);
    return;
  }
  // RFC 1939 §6: QUIT in the TRANSACTION state enters UPDATE and removes the marked messages.
  state_ = State::kUpdate;
  apply_deletions();
}

void Session::authenticate(std::string username, std::string password, std::string_view method) {
  wait_ = Wait::kLogin;
  login_.verify(std::move(username), std::move(password),
                [this, method = std::string(method)](Result<store::Account> account) {
                  if (account) {
                    open_maildrop(*account, method);
                  } else if (account.error().code == Errc::kPermissionDenied) {
                    send_line(reply::kAuthFailed);
                  } else {
                    send_line(reply::kTemporaryFailure);
                  }
                  finish_wait();
                });
}

void Session::open_maildrop(const store::Account& account, std::string_view method) {
  store::Store& store = services_.store;
  auto lock = store.lock_maildrop(account.id);
  if (!lock) {
    host_.logger().info("maildrop_busy", {{"user", account.address()}});
    reply_store_error(lock.error());
    return;
  }
  auto inbox = store.find_mailbox(account.id, "INBOX");
  if (!inbox) {
    host_.logger().error("maildrop_open_failed",
                         {{"user", account.address()}, {"error", inbox.error().message}});
    reply_store_error(inbox.error());
    return;
  }
  auto entries = store.entries(inbox->id);
  if (!entries) {
    host_.logger().error("maildrop_open_failed",
                         {{"user", account.address()}, {"error", entries.error().message}});
    reply_store_error(entries.error());
    return;
  }
  lock_ = std::move(*lock);
  maildrop_ = Maildrop(*inbox, *entries);
  account_ = account.address();
  state_ = State::kTransaction;
  host_.logger().info("login", {{"user", account_},
                                {"method", method},
                                {"messages", maildrop_.count()},
                                {"size", maildrop_.live_size()}});
  send_line(reply::kLoggedIn);
}

void Session::reply_store_error(const Error& error) {
  switch (error.code) {
    case Errc::kBusy:
      send_line(reply::kInUse);
      break;
    case Errc::kNotFound:
    case Errc::kPermissionDenied:
      send_line(reply::kPermanentFailure);
      break;
    default:
      send_line(reply::kTemporaryFailure);
      break;
  }
}

// ---- TRANSACTION ----

std::optional<uint32_t> Session::message_number(std::string_view arg) {
  std::optional<uint32_t> number = parse_number(arg);
  if (!number) {
    send_line(reply::kInvalidMessageNumber);
    return std::nullopt;
  }
  switch (maildrop_.lookup(*number)) {
    case Maildrop::Lookup::kFound:
      return number;
    case Maildrop::Lookup::kNoSuchMessage:
      send_line(fmt::format("-ERR There's no message {}.", *number));
      return std::nullopt;
    case Maildrop::Lookup::kDeleted:
      send_line(reply::kMessageDeleted);
      return std::nullopt;
  }
  return std::nullopt;
}

void Session::cmd_stat(const CommandLine&) {
  // RFC 1939 §5: messages marked as deleted are not counted.
  send_line(fmt::format("+OK {} {}", maildrop_.live_count(), maildrop_.live_size()));
}

void Session::cmd_list(const CommandLine& command) {
  if (!command.args.empty()) {
    std::optional<uint32_t> n = message_number(command.args[0]);
    if (n) send_line(fmt::format("+OK {} {}", *n, maildrop_.message(*n).size));
    return;
  }
  std::string out =
      fmt::format("+OK {} messages ({} octets)\r\n", maildrop_.live_count(), maildrop_.live_size());
  for (uint32_t n = 1; n <= maildrop_.count(); ++n) {
    if (maildrop_.lookup(n) == Maildrop::Lookup::kFound) {
      fmt::format_to(std::back_inserter(out), "{} {}\r\n", n, maildrop_.message(n).size);
    }
  }
  out.append(".\r\n");
  host_.send(out);
}

void Session::cmd_uidl(const CommandLine& command) {
  if (!command.args.empty()) {
    std::optional<uint32_t> n = message_number(command.args[0]);
    if (n) send_line(fmt::format("+OK {} {}", *n, maildrop_.unique_id(*n)));
    return;
  }
  std::string out = "+OK\r\n";
  for (uint32_t n = 1; n <= maildrop_.count(); ++n) {
    if (maildrop_.lookup(n) == Maildrop::Lookup::kFound) {
      fmt::format_to(std::back_inserter(out), "{} {}\r\n", n, maildrop_.unique_id(n));
    }
  }
  out.append(".\r\n");
  host_.send(out);
}

void Session::cmd_retr(const CommandLine& command) {
  std::optional<uint32_t> n = message_number(command.args[0]);
  if (!n || !message_available(*n)) return;
  // RFC 1939 §11: the size announced is that of the message before byte-stuffing.
  send_line(fmt::format("+OK {} octets", maildrop_.message(*n).size));
  ++retrieved_;
  start_transfer(*n, std::nullopt);
}

void Session::cmd_top(const CommandLine& command) {
  std::optional<uint32_t> n = message_number(command.args[0]);
  if (!n) return;
  std::optional<uint32_t> lines = parse_number(command.args[1]);
  if (!lines) {
    send_line(reply::kInvalidLineCount);
    return;
  }
  if (!message_available(*n)) return;
  send_line(reply::kOk);
  start_transfer(*n, *lines);
}

void Session::cmd_dele(const CommandLine& command) {
  std::optional<uint32_t> n = message_number(command.args[0]);
  if (!n) return;
  maildrop_.mark_deleted(*n);
  send_line(reply::kMarkedDeleted);
}

void Session::cmd_noop(const CommandLine&) {
  send_line(reply::kOk);
}

void Session::cmd_rset(const CommandLine&) {
  maildrop_.unmark_all();
  send_line(reply::kOk);
}

bool Session::message_available(uint32_t number) {
  auto size = services_.store.message_size(maildrop_.message(number).message);
  if (size) return true;
  if (size.error().code == Errc::kNotFound) {
    // Removed through IMAP since this session took its snapshot.
    send_line(reply::kMessageGone);
  } else {
    host_.logger().error("retrieve_failed", {{"user", account_}, {"error", size.error().message}});
    reply_store_error(size.error());
  }
  return false;
}

void Session::start_transfer(uint32_t number, std::optional<uint32_t> body_lines) {
  const MaildropMessage& message = maildrop_.message(number);
  transfer_.emplace(Transfer{message.message, 0, message.size, MessageStream(body_lines)});
  wait_ = Wait::kStream;
  if (pump()) wait_ = Wait::kNone;
}

bool Session::pump() {
  while (transfer_ && host_.pending_output() < kStreamChunk) {
    Transfer& t = *transfer_;
    std::string out;
    bool more = t.offset < t.size;
    if (more) {
      uint64_t length = std::min<uint64_t>(kStreamChunk, t.size - t.offset);
      auto data = services_.store.read(t.message, t.offset, length);
      if (!data) {
        // The +OK has gone out; the only honest way left is to end the connection before the
        // terminating dot, so that the client sees an incomplete answer.
        host_.logger().error("retrieve_failed",
                             {{"user", account_}, {"error", data.error().message}});
        drop_connection();
        return true;
      }
      if (data->empty()) {
        more = false;
      } else {
        t.offset += data->size();
        more = t.stream.feed(*data, out) && t.offset < t.size;
      }
    }
    if (!more) {
      t.stream.finish(out);
      host_.send(out);
      transfer_.reset();
      return true;
    }
    host_.send(out);
  }
  return !transfer_;
}

// ---- UPDATE ----

void Session::apply_deletions() {
  std::vector<store::Uid> uids = maildrop_.deleted_uids();
  const size_t deleted = uids.size();
  if (uids.empty()) {
    host_.logger().info("logout", {{"user", account_}, {"retrieved", retrieved_}, {"deleted", 0}});
    close_with(reply::kLoggingOut);
    return;
  }
  wait_ = Wait::kUpdate;
  net::LoopPoster post = host_.begin_async();
  // RFC 1939 §6: the +OK goes out only once the removal is on disk (DESIGN.md: durability).
  services_.store.expunge(
      maildrop_.mailbox(), std::move(uids),
      [this, post, deleted](Result<std::vector<store::Uid>> removed) {
        post([this, deleted, removed = std::move(removed)] {
          if (removed) {
            host_.logger().info(
                "logout", {{"user", account_}, {"retrieved", retrieved_}, {"deleted", deleted}});
            close_with(reply::kLoggingOutDeleted);
          } else {
            host_.logger().error("expunge_failed",
                                 {{"user", account_}, {"error", removed.error().message}});
            close_with(reply::kNotAllDeleted);
          }
          wait_ = Wait::kNone;
        });
      });
}

}  // namespace chapar::pop3
