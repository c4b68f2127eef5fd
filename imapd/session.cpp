// SPDX-License-Identifier: AGPL-3.0-or-later
#include "imapd/session.hpp"

#include <fmt/format.h>

#include "common/log.hpp"
#include "imapd/fetch.hpp"
#include "imapd/response.hpp"

namespace chapar::imap {
namespace {

// Dovecot's limit: a client that keeps sending nonsense is not worth talking to.
constexpr int kMaxBadCommands = 20;

}  // namespace

Session::Session(net::SessionHost& host, Services services)
    : host_(host),
      services_(services),
      login_(services.store, services.throttle, host, "imap"),
      // Before login, literals are held to the command length: only APPEND may send large
      // ones, and only an authenticated client may APPEND.
      reader_(ReaderLimits{services.config.imapd.max_command_length,
                           services.config.imapd.max_command_length},
              [this] { return std::make_shared<store::Spool>(services_.store.temp_dir()); }) {}

Session::~Session() {
  deselect();
}

void Session::start() {
  send(fmt::format("* OK [CAPABILITY {}] Chapar IMAP ready.\r\n", capabilities()));
}

void Session::receive(std::string_view bytes) {
  if (closing_ || tls_pending_) return;
  input_.append(bytes);
  process();
}

void Session::process() {
  if (processing_) return;
  processing_ = true;
  while (!closing_ && !tls_pending_) {
    // IDLE and AUTHENTICATE read lines while their command runs.
    if (mode_ != Mode::kCommands) {
      std::optional<std::string> line = take_line();
      if (!line) break;
      if (mode_ == Mode::kIdle) {
        handle_idle_line(*line);
      } else {
        handle_sasl_line(*line);
      }
      continue;
    }
    if (busy_) break;
    CommandReader::Step step = reader_.next(input_);
    input_.erase(0, step.consumed);
    if (step.event == CommandReader::Event::kNeedMore) break;
    switch (step.event) {
      case CommandReader::Event::kContinue:
        // RFC 9051 §7.5: the command continuation request for a synchronizing literal.
        send("+ OK\r\n");
        break;
      case CommandReader::Event::kCommand: {
        ParseResult parsed = parse_command(reader_.take());
        if (parsed.command) {
          dispatch(std::move(*parsed.command));
        } else {
          const std::string tag = parsed.error.tag.empty() ? "*" : parsed.error.tag;
          send(status_line(tag, kBad, "", parsed.error.message + "."));
          if (++bad_commands_ >= kMaxBadCommands) close_with_bye("Too many invalid commands.");
        }
        break;
      }
      case CommandReader::Event::kLiteralRefused:
      case CommandReader::Event::kDiscarded:
        refuse_literal();
        break;
      case CommandReader::Event::kNeedMore:
        break;
    }
  }
  processing_ = false;
  if (shutdown_ && !busy_ && !closing_) close_with_bye("Server shutting down.");
}

void Session::refuse_literal() {
  std::string_view tag = reader_.tag().empty() ? "*" : std::string_view(reader_.tag());
  if (reader_.refusal() == CommandReader::Refusal::kStorage) {
    host_.logger().error("literal_spool_failed");
    send(status_line(tag, kNo, code::kServerBug,
                     "Internal error occurred. Refer to server log for more information."));
  } else if (reader_.refused_append() && state_ != State::kNotAuthenticated) {
    // RFC 7889 §4: an APPEND over APPENDLIMIT is refused with TOOBIG.
    send(status_line(tag, kNo, code::kTooBig, "Message too large."));
  } else {
    send(status_line(tag, kBad, code::kTooBig, "Command too long."));
  }
}

std::optional<std::string> Session::take_line() {
  size_t nl = input_.find('\n');
  if (nl == std::string::npos) {
    if (input_.size() > services_.config.imapd.max_command_length) {
      close_with_bye("Line too long.");
    }
    return std::nullopt;
  }
  std::string line = input_.substr(0, nl);
  input_.erase(0, nl + 1);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

const Session::CommandSpec* Session::find_command(std::string_view name) {
  for (const CommandSpec* spec = kCommands; !spec->name.empty(); ++spec) {
    if (spec->name == name) return spec;
  }
  return nullptr;
}

void Session::dispatch(Command command) {
  const CommandSpec* spec = find_command(command.name);
  current_ = Current{command.tag, command.name, spec ? spec->flags : uint8_t{0}};
  busy_ = true;
  if (!spec) {
    ++bad_commands_;
    return finish_bad("Unknown command.");
  }
  uint8_t state_bit = state_ == State::kNotAuthenticated ? kNotAuth
                      : state_ == State::kAuthenticated  ? kAuth
                                                         : kSel;
  if ((spec->states & state_bit) == 0) {
    if (state_ == State::kNotAuthenticated) return finish_bad("Log in first.");
    if ((spec->states & kSel) != 0) return finish_bad("No mailbox selected.");
    return finish_bad("Command not valid in this state.");
  }
  if ((spec->flags & kReadWrite) != 0 && view_ && view_->read_only()) {
    return finish_no("", "Mailbox is read-only.");
  }
  (this->*spec->handler)(command);
}

void Session::finish(std::string_view status, std::string_view code, std::string_view text) {
  if (state_ == State::kSelected) sync(expunge_allowed());
  send(status_line(current_.tag, status, code, text));
  busy_ = false;
  if (!processing_) process();
}

void Session::send(std::string_view bytes) {
  if (!closing_) host_.send(bytes);
}

void Session::untagged(std::string_view text) {
  send(fmt::format("* {}\r\n", text));
}

void Session::close_with_bye(std::string_view text) {
  if (closing_) return;
  untagged(fmt::format("BYE {}", text));
  closing_ = true;
  fetch_.reset();
  deselect();
  host_.close();
}

void Session::on_tls_started() {
  tls_pending_ = false;
  host_.logger().info("tls_started", {{"version", host_.tls() ? host_.tls()->version : ""}});
  process();
}

void Session::on_writable() {
  if (fetch_) pump_fetch();
}

void Session::on_idle_timeout() {
  close_with_bye("Disconnected for inactivity.");
}

void Session::on_shutdown() {
  shutdown_ = true;
  // An IDLE may last forever: it ends now (RFC 9051 §7.1.5).
  if (!busy_ || mode_ == Mode::kIdle) close_with_bye("Server shutting down.");
}

void Session::on_disconnect() {
  fetch_.reset();
  deselect();
  closing_ = true;
}

bool Session::mid_record() const {
  if (closing_ || tls_pending_) return false;
  // IDLE's DONE and AUTHENTICATE's responses are lines read while their command runs.
  if (mode_ != Mode::kCommands) return !input_.empty();
  return !busy_ && (reader_.in_command() || !input_.empty());
}

std::chrono::milliseconds Session::idle_timeout() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(services_.config.imapd.idle_timeout);
}

}  // namespace chapar::imap
