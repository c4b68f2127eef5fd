// SPDX-License-Identifier: AGPL-3.0-or-later
// IDLE (RFC 2177, RFC 9051 §6.3.13): changes are told as they happen until the client
// sends DONE.
#include "imapd/response.hpp"
#include "imapd/session.hpp"

namespace chapar::imap {

void Session::cmd_idle(Command& command) {
  if (!command.args.empty()) return finish_bad("IDLE takes no arguments.");
  mode_ = Mode::kIdle;
  send("+ idling\r\n");
  if (state_ == State::kSelected) sync(true, true);
}

void Session::handle_idle_line(std::string_view line) {
  mode_ = Mode::kCommands;
  if (iequals(line, "DONE")) return finish_ok("Idle completed.");
  finish_bad("Expected DONE.");
}

}  // namespace chapar::imap
