// SPDX-License-Identifier: AGPL-3.0-or-later
// Commands valid in any state (RFC 9051 §6.1) and ID (RFC 2971).
#include <fmt/format.h>

#include "common/log.hpp"
#include "imapd/response.hpp"
#include "imapd/session.hpp"

namespace chapar::imap {
namespace {

// RFC 2971 §3.3: at most 30 field-value pairs; fields at most 30 octets, values 1024.
constexpr size_t kMaxIdPairs = 30;

}  // namespace

bool Session::plaintext_login_allowed() const {
  // RFC 9051 §11.1 and DESIGN.md: no password over plaintext except on loopback.
  return host_.tls().has_value() || host_.peer().loopback;
}

std::string Session::capabilities() const {
  std::string caps = "IMAP4rev1 IMAP4rev2 SASL-IR LITERAL+ ID ENABLE IDLE";
  if (state_ == State::kNotAuthenticated) {
    if (host_.listener().tls == net::TlsMode::kStartTls && !host_.tls()) caps += " STARTTLS";
    // RFC 9051 §6.2.3: LOGINDISABLED while passwords may not be sent.
    caps += plaintext_login_allowed() ? " AUTH=PLAIN AUTH=LOGIN" : " LOGINDISABLED";
    return caps;
  }
  caps +=
      " NAMESPACE UNSELECT UIDPLUS CHILDREN LIST-EXTENDED LIST-STATUS SPECIAL-USE MOVE "
      "CONDSTORE QRESYNC ESEARCH SEARCHRES BINARY MULTIAPPEND UTF8=ACCEPT STATUS=SIZE";
  // RFC 7889 §3.
  caps += fmt::format(" APPENDLIMIT={}", services_.config.imapd.max_literal_size);
  return caps;
}

void Session::cmd_capability(Command& command) {
  if (!command.args.empty()) return finish_bad("CAPABILITY takes no arguments.");
  untagged("CAPABILITY " + capabilities());
  finish_ok("Capability completed.");
}

void Session::cmd_noop(Command& command) {
  if (!command.args.empty()) return finish_bad("NOOP takes no arguments.");
  // RFC 9051 §6.1.2: NOOP is how a client polls for changes.
  if (state_ == State::kSelected) sync(true, true);
  finish_ok("NOOP completed.");
}

void Session::cmd_logout(Command& command) {
  if (!command.args.empty()) return finish_bad("LOGOUT takes no arguments.");
  // RFC 9051 §6.1.3: BYE, then the tagged OK, then the server closes.
  untagged("BYE Logging out.");
  send(status_line(current_.tag, kOk, "", "Logout completed."));
  state_ = State::kLogout;
  busy_ = false;
  closing_ = true;
  fetch_.reset();
  deselect();
  host_.close();
}

void Session::cmd_id(Command& command) {
  // RFC 2971 §3.1: ID ( field value ... ) or ID NIL.
  if (command.args.size() != 1) return finish_bad("Invalid ID arguments.");
  const Arg& arg = command.args[0];
  std::string client;
  if (arg.is_list()) {
    const std::vector<Arg>& items = arg.children;
    if (items.size() % 2 != 0 || items.size() / 2 > kMaxIdPairs) {
      return finish_bad("Invalid ID arguments.");
    }
    for (size_t i = 0; i < items.size(); i += 2) {
      if (!items[i].is_string() || !(items[i + 1].is_string() || items[i + 1].is_nil())) {
        return finish_bad("Invalid ID arguments.");
      }
      if (iequals(items[i].value, "name") && items[i + 1].is_string()) {
        client = items[i + 1].value.substr(0, 64);
      }
    }
  } else if (!arg.is_nil()) {
    return finish_bad("Invalid ID arguments.");
  }
  if (!client.empty()) host_.logger().info("client_id", {{"name", client}});
  untagged("ID (\"name\" \"Chapar\" \"vendor\" \"Chapar\")");
  finish_ok("ID completed.");
}

}  // namespace chapar::imap
