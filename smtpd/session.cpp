// SPDX-License-Identifier: AGPL-3.0-or-later
#include "smtpd/session.hpp"

#include <fmt/format.h>

#include "common/log.hpp"
#include "common/text/ascii.hpp"

namespace chapar::smtp {

// The command table: phases and flags are checked once, in dispatch(), before the handler.
// RFC 5321 §4.1.4: NOOP, HELP, VRFY and RSET work before EHLO; MAIL only after it.
constexpr Session::Command Session::kCommands[] = {
    {"EHLO", kAnyPhase, 0, &Session::cmd_ehlo, ""},
    {"HELO", kAnyPhase, 0, &Session::cmd_helo, ""},
    {"MAIL", kGreeted, kTransaction, &Session::cmd_mail, "Error: nested MAIL command"},
    {"RCPT", kMail | kRecipient, kTransaction, &Session::cmd_rcpt, "Error: need MAIL command"},
    {"DATA", kRecipient, kTransaction, &Session::cmd_data, "Error: need MAIL command"},
    {"BDAT", kRecipient | kChunking, kTransaction | kCounted, &Session::cmd_bdat,
     "Error: need MAIL command"},
    {"RSET", kAnyPhase, 0, &Session::cmd_rset, ""},
    {"NOOP", kAnyPhase, 0, &Session::cmd_noop, ""},
    {"QUIT", kAnyPhase, 0, &Session::cmd_quit, ""},
    {"VRFY", kAnyPhase, 0, &Session::cmd_vrfy, ""},
    {"HELP", kAnyPhase, 0, &Session::cmd_help, ""},
    {"STARTTLS", kInitial | kGreeted, 0, &Session::cmd_starttls,
     "Error: MAIL transaction in progress"},
    {"AUTH", kGreeted, kCredentials, &Session::cmd_auth, "Error: MAIL transaction in progress"},
    // RFC 5321 §4.2.4: recognised but not implemented (and not advertised) is 502.
    {"EXPN", kAnyPhase, 0, &Session::cmd_not_implemented, ""},
    {"ETRN", kAnyPhase, 0, &Session::cmd_not_implemented, ""},
    {"TURN", kAnyPhase, 0, &Session::cmd_not_implemented, ""},
    {"SEND", kAnyPhase, 0, &Session::cmd_not_implemented, ""},
    {"SOML", kAnyPhase, 0, &Session::cmd_not_implemented, ""},
    {"SAML", kAnyPhase, 0, &Session::cmd_not_implemented, ""},
};

namespace {

// The EHLO/HELO argument goes into the Received header: only what a host name or an address
// literal can hold is accepted, so that it cannot forge the structure of that field.
bool is_acceptable_helo(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view(".-_:[]").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Role role_of_listener(std::string_view name) {
  if (name == "submission" || name == "submissions") return Role::kSubmission;
  return Role::kMx;
}

Session::Session(net::SessionHost& host, Services services)
    : host_(host),
      services_(services),
      role_(role_of_listener(host.listener().name)),
      login_(services.store, services.throttle, host, "smtp"),
      reader_(net::LineReaderOptions{std::max(services.config.smtpd.max_line_length, kMaxAuthLine),
                                     true}) {}

Session::~Session() = default;

void Session::start() {
  out_ += format_plain_reply(220, fmt::format("{} ESMTP Chapar", services_.config.server.hostname));
  flush();
}

void Session::receive(std::string_view bytes) {
  if (mode_ == Mode::kClosed || mode_ == Mode::kTlsHandshake) return;
  reader_.feed(bytes);
  resume();
}

void Session::on_tls_started() {
  // RFC 3207 §4.2: the server forgets everything it learnt before the handshake, and the
  // client starts over with EHLO.
  mode_ = Mode::kCommand;
  phase_ = kInitial;
  helo_.clear();
  extended_ = false;
  account_.reset();
  sasl_.reset();
  reset_transaction();
  resume();
}

void Session::on_idle_timeout() {
  if (mode_ == Mode::kClosed) return;
  host_.logger().info("timeout", {{"ip", host_.peer().address}});
  close_with(kTimeout421,
             fmt::format("{} Error: timeout exceeded", services_.config.server.hostname));
  flush();
}

void Session::on_shutdown() {
  shutdown_ = true;
  // With slow work outstanding, the goodbye comes once it has been answered (resume()).
  if (!waiting_) resume();
}

void Session::on_disconnect() {
  mode_ = Mode::kClosed;
}

std::chrono::milliseconds Session::idle_timeout() const {
  const config::Smtpd& smtpd = services_.config.smtpd;
  // RFC 5321 §4.5.3.2: longer while the client is sending data.
  if (mode_ == Mode::kData || mode_ == Mode::kChunk) return smtpd.data_timeout;
  return smtpd.command_timeout;
}

bool Session::mid_record() const {
  if (waiting_ || mode_ == Mode::kClosed || mode_ == Mode::kTlsHandshake) return false;
  // RFC 5321 §4.5.3.2.5-6: the whole of the content is timed from the 354 (or the BDAT line).
  return mode_ == Mode::kData || mode_ == Mode::kChunk || reader_.buffered() > 0;
}

void Session::resume() {
  if (processing_) return;
  processing_ = true;
  while (mode_ != Mode::kClosed && mode_ != Mode::kTlsHandshake && !waiting_) {
    if (shutdown_) {
      close_with(kShuttingDown421,
                 fmt::format("{} Service shutting down", services_.config.server.hostname));
      break;
    }
    if (!step()) break;
  }
  processing_ = false;
  flush();
}

// Takes one unit of input (a line, or data) if there is one.
bool Session::step() {
  switch (mode_) {
    case Mode::kCommand:
    case Mode::kAuthResponse: {
      std::optional<net::Line> line = reader_.next();
      if (!line) return false;
      if (mode_ == Mode::kAuthResponse) {
        auth_line(*line);
      } else {
        dispatch(*line);
      }
      return true;
    }
    case Mode::kData: {
      std::string_view input = reader_.peek();
      if (input.empty()) return false;
      reader_.consume(txn_.data->feed(input));
      if (txn_.data->done()) end_of_data();
      return true;
    }
    case Mode::kChunk: {
      ChunkReader& chunk = discard_ ? *discard_ : *txn_.chunks;
      if (!chunk.chunk_done()) {
        std::string_view input = reader_.peek();
        if (input.empty()) return false;
        reader_.consume(chunk.feed(input));
        if (!chunk.chunk_done()) return true;
      }
      end_of_chunk();
      return true;
    }
    case Mode::kTlsHandshake:
    case Mode::kClosed:
      return false;
  }
  return false;
}

void Session::dispatch(const net::Line& line) {
  last_line_bare_lf_ = line.bare_lf;
  CommandLine command = split_command(line.text);
  bool auth = text::iequals(command.verb, "AUTH");
  // RFC 5321 §4.5.3.1.4; AUTH may be longer (RFC 4954 §4).
  if (line.overlong || (!auth && line.text.size() + 2 > services_.config.smtpd.max_line_length)) {
    reply(kLineTooLong500, "Error: line too long");
    return;
  }
  if (command.verb.empty()) {
    reply(kUnrecognized500, "Error: bad syntax");
    return;
  }
  const Command* found = nullptr;
  for (const Command& candidate : kCommands) {
    if (text::iequals(candidate.name, command.verb)) {
      found = &candidate;
      break;
    }
  }
  if (found == nullptr) {
    reply(kUnrecognized500, "Error: command not recognized");
    return;
  }
  if (std::optional<Rejection> refusal = check(*found)) {
    if (found->flags & kCounted) {
      refuse_chunk(command.args, *refusal);
    } else {
      reply(*refusal);
    }
    return;
  }
  (this->*found->handler)(command.args);
}

std::optional<Rejection> Session::check(const Command& command) const {
  bool loopback = host_.peer().loopback;
  if ((command.flags & kCredentials) && !auth_allowed()) {
    if (starttls_available()) {
      return Rejection{kStartTlsFirst530, "Must issue a STARTTLS command first"};
    }
    return Rejection{kBadSequence503, "Error: authentication not enabled"};
  }
  if ((command.flags & kTransaction) && role_ == Role::kSubmission && !tls_active() && !loopback) {
    return Rejection{kStartTlsFirst530, "Must issue a STARTTLS command first"};
  }
  if (!(command.phases & phase_)) {
    if (phase_ == kInitial) return Rejection{kBadSequence503, "Error: send HELO/EHLO first"};
    if (phase_ == kMail && (command.name == "DATA" || command.name == "BDAT")) {
      return Rejection{kBadSequence503, "Error: need RCPT command"};
    }
    if (phase_ == kChunking && command.name == "DATA") {
      // RFC 3030 §2: DATA and BDAT do not mix in one transaction.
      return Rejection{kBadSequence503, "Error: DATA cannot follow BDAT"};
    }
    return Rejection{kBadSequence503, std::string(command.out_of_sequence)};
  }
  if ((command.flags & kTransaction) && role_ == Role::kSubmission && !account_) {
    return Rejection{kAuthRequired530, "Authentication required"};
  }
  return std::nullopt;
}

void Session::flush() {
  if (out_.empty()) return;
  host_.send(out_);
  out_.clear();
}

void Session::reply(ReplyCode code, std::string_view text) {
  reply_uncounted(code, text);
  if (code.code < 400 || mode_ == Mode::kClosed) return;
  if (++errors_ >= services_.config.smtpd.max_errors) {
    host_.logger().info("too_many_errors", {{"ip", host_.peer().address}, {"errors", errors_}});
    close_with(kTooManyErrors421,
               fmt::format("{} Error: too many errors", services_.config.server.hostname));
  }
}

void Session::reply_uncounted(ReplyCode code, std::string_view text) {
  out_ += format_reply(code, text);
}

void Session::close_with(ReplyCode code, std::string_view text) {
  out_ += format_reply(code, text);
  flush();
  mode_ = Mode::kClosed;
  host_.close();
}

bool Session::starttls_available() const {
  return host_.listener().tls == net::TlsMode::kStartTls && !tls_active();
}

bool Session::auth_allowed() const {
  return tls_active() || host_.peer().loopback;
}

bool Session::greet(std::string_view args, bool extended) {
  std::string_view name = args.substr(0, args.find(' '));
  if (name.empty()) {
    reply(kSyntax501, extended ? "Syntax: EHLO hostname" : "Syntax: HELO hostname");
    return false;
  }
  if (!is_acceptable_helo(name)) {
    reply(kInvalidHostname501, "Error: invalid host name");
    return false;
  }
  // RFC 5321 §4.1.4: a later EHLO resets the state exactly as RSET does.
  reset_transaction();
  helo_ = std::string(name);
  extended_ = extended;
  phase_ = kGreeted;
  return true;
}

void Session::cmd_ehlo(std::string_view args) {
  if (!greet(args, true)) return;
  const config::Smtpd& smtpd = services_.config.smtpd;
  std::vector<std::string> lines;
  lines.push_back(services_.config.server.hostname);
  lines.push_back("PIPELINING");
  lines.push_back(fmt::format("SIZE {}", smtpd.max_message_size));
  // RFC 9422: RCPTMAX per transaction, MAILMAX transactions per connection.
  lines.push_back(fmt::format("LIMITS RCPTMAX={} MAILMAX={}", smtpd.max_recipients,
                              smtpd.max_messages_per_connection));
  if (starttls_available()) lines.push_back("STARTTLS");
  if (auth_allowed() && !account_) lines.push_back("AUTH PLAIN LOGIN");
  lines.push_back("ENHANCEDSTATUSCODES");
  lines.push_back("8BITMIME");
  lines.push_back("BINARYMIME");
  lines.push_back("CHUNKING");
  lines.push_back("DSN");
  lines.push_back("SMTPUTF8");
  // RFC 8689 §2: advertised only on a TLS-protected session.
  if (tls_active()) lines.push_back("REQUIRETLS");
  out_ += format_multiline(250, "", lines);
}

void Session::cmd_helo(std::string_view args) {
  if (!greet(args, false)) return;
  out_ += format_plain_reply(250, services_.config.server.hostname);
}

void Session::cmd_rset(std::string_view args) {
  // RFC 5321 §4.3.2: commands without arguments answer 501 when given some.
  if (!args.empty()) {
    reply(kSyntax501, "Syntax: RSET");
    return;
  }
  reset_transaction();
  if (phase_ != kInitial) phase_ = kGreeted;
  reply(kOk250, "Ok");
}

void Session::cmd_noop(std::string_view) {
  reply(kOk250, "Ok");
}

void Session::cmd_quit(std::string_view args) {
  if (!args.empty()) {
    reply(kSyntax501, "Syntax: QUIT");
    return;
  }
  reset_transaction();
  close_with(kClosing221, "Bye");
}

void Session::cmd_vrfy(std::string_view args) {
  if (args.empty()) {
    reply(kSyntax501, "Syntax: VRFY address");
    return;
  }
  // RFC 5321 §3.5.3: neither confirm nor deny; the answer gives no address away.
  reply(kCannotVerify252, "Cannot VRFY user, but will accept message and attempt delivery");
}

void Session::cmd_help(std::string_view) {
  std::vector<std::string> lines = {
      "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH",
      "End of HELP info"};
  out_ += format_multiline(kHelp214.code, kHelp214.status, lines);
}

void Session::cmd_starttls(std::string_view args) {
  if (!args.empty()) {
    reply(kSyntax501, "Syntax: STARTTLS");
    return;
  }
  if (tls_active()) {
    reply(kTlsAlreadyActive554, "Error: TLS already active");
    return;
  }
  if (!starttls_available()) {
    reply(kNotImplemented502, "Error: command not implemented");
    return;
  }
  reply(kReadyForTls220, "Ready to start TLS");
  flush();
  // RFC 3207 §4.2: what the client sent behind STARTTLS arrived in the clear and may have
  // been injected by someone in the middle: it is dropped.
  reader_.clear();
  mode_ = Mode::kTlsHandshake;
  host_.start_tls();
}

void Session::cmd_not_implemented(std::string_view) {
  reply(kNotImplemented502, "Error: command not implemented");
}

void Session::reset_transaction() {
  txn_ = Transaction{};
  discard_.reset();
  discard_reply_.reset();
}

}  // namespace chapar::smtp
