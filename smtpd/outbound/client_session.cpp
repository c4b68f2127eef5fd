// SPDX-License-Identifier: AGPL-3.0-or-later
#include "smtpd/outbound/client_session.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "common/text/base64.hpp"
#include "common/text/xtext.hpp"

namespace chapar::smtp::outbound {
namespace {

bool has_non_ascii(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

RecipientResult local_result(Outcome outcome, std::string_view status, std::string_view why) {
  return RecipientResult{outcome, std::string(why), std::string(status), false};
}

// What a reply to MAIL, RCPT or the end of data means for a recipient.
RecipientResult reply_result(const ServerReply& reply) {
  Outcome outcome = reply.kind() == 2   ? Outcome::kDelivered
                    : reply.kind() == 5 ? Outcome::kPermanent
                                        : Outcome::kTemporary;
  std::string status = reply.status();
  if (outcome == Outcome::kTemporary && status[0] != '4') status[0] = '4';
  return RecipientResult{outcome, reply.text(), std::move(status), true};
}

// A refusal before the transaction (greeting, EHLO, STARTTLS, AUTH): this host will not take
// the message now, another host or a later try may (Postfix's smtp_skip_5xx_greeting).
RecipientResult host_result(const ServerReply& reply) {
  std::string status = reply.status();
  status[0] = '4';
  return RecipientResult{Outcome::kTemporary, reply.text(), std::move(status), true};
}

}  // namespace

ClientSession::ClientSession(ClientSettings settings, Envelope envelope, MessageSource message)
    : settings_(std::move(settings)),
      envelope_(std::move(envelope)),
      message_(std::move(message)),
      reader_(settings_.reply_limits),
      tls_(settings_.implicit_tls) {
  size_t n = envelope_.recipients.size();
  result_.recipients.resize(n);
  result_.tls = tls_;
  settled_.assign(n, false);
  accepted_.assign(n, false);
}

void ClientSession::receive(std::string_view bytes) {
  // RFC 3207 §4.2: nothing that arrives between the 220 to STARTTLS and the handshake is
  // trusted; the transport hands over only what the TLS engine decrypts after it.
  if (phase_ == Phase::kDone || phase_ == Phase::kHandshake) return;
  reader_.feed(bytes);
  process();
}

void ClientSession::process() {
  // While the message is going out, replies wait: the server answers after the final dot.
  while (phase_ != Phase::kDone && phase_ != Phase::kHandshake && phase_ != Phase::kData) {
    std::optional<Result<ServerReply>> reply = reader_.next();
    if (!reply) return;
    if (!*reply) {
      fail_open(local_result(Outcome::kTemporary, "4.4.2",
                             fmt::format("protocol error: {}", reply->error().message)),
                false);
      return;
    }
    handle(**reply);
  }
}

void ClientSession::handle(const ServerReply& reply) {
  switch (phase_) {
    case Phase::kGreeting:
      return on_greeting(reply);
    case Phase::kEhlo:
      return on_ehlo(reply);
    case Phase::kHelo:
      return on_helo(reply);
    case Phase::kStartTls:
      return on_starttls(reply);
    case Phase::kAuth:
    case Phase::kAuthLoginUser:
    case Phase::kAuthLoginPassword:
      return on_auth(reply);
    case Phase::kTransaction:
      return on_transaction(reply);
    case Phase::kDataEnd:
      return on_data_end(reply);
    case Phase::kQuit:
      phase_ = Phase::kDone;
      return;
    case Phase::kData:
    case Phase::kHandshake:
    case Phase::kDone:
      return;
  }
}

void ClientSession::on_greeting(const ServerReply& reply) {
  // RFC 5321 §4.3.2: 220 to go on; 554 (or 4xx) means not now, not from us.
  if (reply.code != 220) return fail_open(host_result(reply), true);
  send(fmt::format("EHLO {}", settings_.helo_name));
  phase_ = Phase::kEhlo;
}

void ClientSession::on_ehlo(const ServerReply& reply) {
  if (reply.kind() == 2) {
    caps_ = parse_capabilities(reply);
    return after_hello();
  }
  // RFC 5321 §3.2: a server that does not know EHLO answers 500 or 502; try HELO.
  if (reply.kind() == 5) {
    send(fmt::format("HELO {}", settings_.helo_name));
    phase_ = Phase::kHelo;
    return;
  }
  fail_open(host_result(reply), true);
}

void ClientSession::on_helo(const ServerReply& reply) {
  if (reply.kind() != 2) return fail_open(host_result(reply), true);
  caps_ = Capabilities{};
  after_hello();
}

void ClientSession::after_hello() {
  if (!tls_ && caps_.starttls && settings_.tls != TlsPolicy::kNone) {
    send("STARTTLS");
    phase_ = Phase::kStartTls;
    return;
  }
  if (!tls_ && settings_.tls == TlsPolicy::kRequired) {
    return fail_open(local_result(Outcome::kTemporary, "4.7.10",
                                  "TLS is required, but the server does not offer STARTTLS"),
                     true);
  }
  start_auth_or_transaction();
}

void ClientSession::on_starttls(const ServerReply& reply) {
  if (reply.code == 220) {
    phase_ = Phase::kHandshake;
    tls_requested_ = true;
    reader_.clear();
    return;
  }
  if (settings_.tls == TlsPolicy::kRequired) return fail_open(host_result(reply), true);
  start_auth_or_transaction();  // opportunistic: go on in plaintext
}

void ClientSession::tls_started(bool verified) {
  tls_ = true;
  tls_verified_ = verified;
  result_.tls = true;
  if (phase_ != Phase::kHandshake) return;  // implicit TLS: before the greeting
  // RFC 3207 §4.2: forget what the server said before TLS and ask again.
  caps_ = Capabilities{};
  send(fmt::format("EHLO {}", settings_.helo_name));
  phase_ = Phase::kEhlo;
}

void ClientSession::start_auth_or_transaction() {
  const auto& credentials = settings_.credentials;
  // A password travels only encrypted, unless TLS was turned off on purpose.
  bool may_send_password = tls_ || settings_.tls == TlsPolicy::kNone;
  if (!credentials || caps_.auth.empty() || !may_send_password) return start_transaction();
  if (caps_.offers_auth("PLAIN")) {
    // RFC 4616 §2: authzid NUL authcid NUL passwd, as the initial response (RFC 4954 §4).
    std::string message;
    message.push_back('\0');
    message += credentials->user;
    message.push_back('\0');
    message += credentials->password;
    send(fmt::format("AUTH PLAIN {}", text::base64_encode(message)));
    phase_ = Phase::kAuth;
  } else if (caps_.offers_auth("LOGIN")) {
    send("AUTH LOGIN");
    phase_ = Phase::kAuthLoginUser;
  } else {
    start_transaction();
  }
}

void ClientSession::on_auth(const ServerReply& reply) {
  const auto& credentials = *settings_.credentials;
  if (phase_ == Phase::kAuth) {
    if (reply.kind() == 2) return start_transaction();
    if (reply.code == 334) send("*");  // RFC 4954 §4: cancel what we cannot answer
    return fail_open(host_result(reply), reply.code != 334);
  }
  if (reply.code != 334) return fail_open(host_result(reply), true);
  if (phase_ == Phase::kAuthLoginUser) {
    send(text::base64_encode(credentials.user));
    phase_ = Phase::kAuthLoginPassword;
  } else {
    send(text::base64_encode(credentials.password));
    phase_ = Phase::kAuth;
  }
}

void ClientSession::start_transaction() {
  // RFC 1870 §6: a message the server has declared too big is not offered.
  if (caps_.size && *caps_.size > 0 && message_.size > *caps_.size) {
    return fail_open(
        local_result(Outcome::kPermanent, "5.3.4",
                     fmt::format("message size {} exceeds the limit of {} of the remote server",
                                 message_.size, *caps_.size)),
        true);
  }
  bool needs_utf8 = needs_smtputf8();
  // RFC 6531 §3.2: without SMTPUTF8 at the server such an address cannot go there.
  if (needs_utf8 && !caps_.smtputf8) {
    return fail_open(local_result(Outcome::kPermanent, "5.6.7",
                                  "the message needs SMTPUTF8, which the server does not support"),
                     true);
  }
  // RFC 8689 §4.2.1: only over verified TLS to a server that promises the same.
  if (envelope_.dsn.requiretls && !(tls_ && tls_verified_ && caps_.requiretls)) {
    return fail_open(local_result(Outcome::kPermanent, "5.7.30",
                                  "REQUIRETLS support required, but the server or its TLS "
                                  "does not provide it"),
                     true);
  }
  result_.dsn_supported = caps_.dsn;
  phase_ = Phase::kTransaction;
  send(mail_command());
  expected_.push_back(Expect::kMail);
  if (caps_.pipelining) {
    // RFC 2920 §3.1: MAIL, every RCPT and DATA go in one group.
    for (const auto& recipient : envelope_.recipients) {
      send(rcpt_command(recipient));
      expected_.push_back(Expect::kRcpt);
    }
    next_rcpt_ = envelope_.recipients.size();
    send("DATA");
    expected_.push_back(Expect::kData);
  }
}

bool ClientSession::needs_smtputf8() const {
  // RFC 6531 §3.4: an address in UTF-8 needs it; header fields alone are sent as 8-bit.
  return has_non_ascii(envelope_.sender) ||
         std::any_of(envelope_.recipients.begin(), envelope_.recipients.end(),
                     [](const auto& r) { return has_non_ascii(r.address); });
}

std::string ClientSession::mail_command() const {
  std::string command = fmt::format("MAIL FROM:<{}>", envelope_.sender);
  if (caps_.size) command += fmt::format(" SIZE={}", message_.size);
  if (message_.eight_bit && caps_.eight_bit_mime) command += " BODY=8BITMIME";
  if (needs_smtputf8() && caps_.smtputf8) command += " SMTPUTF8";
  if (caps_.dsn) {
    if (!envelope_.dsn.ret.empty()) command += " RET=" + envelope_.dsn.ret;
    if (!envelope_.dsn.envid.empty())
      command += " ENVID=" + text::xtext_encode(envelope_.dsn.envid);
  }
  if (envelope_.dsn.requiretls) command += " REQUIRETLS";
  return command;
}

std::string ClientSession::rcpt_command(const store::QueueRecipient& recipient) const {
  std::string command = fmt::format("RCPT TO:<{}>", recipient.address);
  if (caps_.dsn) {
    if (!recipient.notify.empty()) command += " NOTIFY=" + recipient.notify;
    if (!recipient.orcpt.empty()) command += " ORCPT=" + recipient.orcpt;
  }
  return command;
}

void ClientSession::on_transaction(const ServerReply& reply) {
  if (expected_.empty()) {
    return fail_open(local_result(Outcome::kTemporary, "4.4.2",
                                  fmt::format("unexpected reply: {}", reply.text())),
                     true);
  }
  Expect expect = expected_.front();
  expected_.pop_front();
  size_t n = envelope_.recipients.size();
  switch (expect) {
    case Expect::kMail:
      if (reply.kind() != 2) {
        mail_failed_ = true;
        RecipientResult result = reply_result(reply);
        for (size_t i = 0; i < n; ++i) settle(i, result);
      }
      break;
    case Expect::kRcpt: {
      size_t i = rcpt_replies_++;
      if (!mail_failed_ && i < n) {
        if (reply.kind() == 2) {
          accepted_[i] = true;
        } else {
          settle(i, reply_result(reply));
        }
      }
      break;
    }
    case Expect::kData: {
      bool any_accepted = std::find(accepted_.begin(), accepted_.end(), true) != accepted_.end();
      if (reply.code == 354) {
        if (!any_accepted || mail_failed_) {
          // RFC 2920 §3.1: DATA accepted with no valid recipient; end it empty.
          send_empty_data_ = true;
          send(".");
          phase_ = Phase::kDataEnd;
          return;
        }
        phase_ = Phase::kData;
        return;
      }
      for (size_t i = 0; i < n; ++i) {
        if (accepted_[i]) {
          settle(i, reply.kind() == 2
                        ? local_result(Outcome::kTemporary, "4.4.2", "DATA answered without 354")
                        : reply_result(reply));
        }
      }
      break;
    }
  }
  if (!expected_.empty()) return;
  // Without pipelining, one command at a time.
  if (mail_failed_) return quit();
  if (next_rcpt_ < n) {
    send(rcpt_command(envelope_.recipients[next_rcpt_++]));
    expected_.push_back(Expect::kRcpt);
    return;
  }
  bool any_accepted = std::find(accepted_.begin(), accepted_.end(), true) != accepted_.end();
  if (expect == Expect::kRcpt && any_accepted) {
    send("DATA");
    expected_.push_back(Expect::kData);
    return;
  }
  quit();
}

void ClientSession::produce_data() {
  uint64_t remaining = message_.size - data_offset_;
  if (remaining > 0) {
    size_t length = static_cast<size_t>(std::min<uint64_t>(remaining, settings_.data_chunk));
    Result<std::string> chunk =
        message_.read ? message_.read(data_offset_, length)
                      : Result<std::string>(fail(Errc::kInternal, "no message source"));
    if (!chunk || chunk->empty()) {
      // Half a message has been sent: the connection cannot be used any more, and closing
      // it makes the server discard what it got (RFC 5321 §4.1.1.4).
      std::string why =
          chunk ? std::string("message shorter than its size") : chunk.error().message;
      return fail_open(local_result(Outcome::kTemporary, "4.3.0",
                                    fmt::format("local error reading the message: {}", why)),
                       false);
    }
    output_.reserve(output_.size() + chunk->size() + chunk->size() / 64);
    // RFC 5321 §4.5.2: a line that starts with "." gets another one in front.
    for (char c : *chunk) {
      if (at_line_start_ && c == '.') output_.push_back('.');
      output_.push_back(c);
      at_line_start_ = c == '\n';
    }
    last_octet_ = chunk->back();
    data_offset_ += chunk->size();
    remaining = message_.size - data_offset_;
  }
  if (remaining == 0) {
    // RFC 5321 §4.1.1.4: the end is CRLF "." CRLF; the content's last line needs its CRLF.
    if (last_octet_ != '\n' && data_offset_ > 0) output_ += "\r\n";
    output_ += ".\r\n";
    phase_ = Phase::kDataEnd;
  }
}

void ClientSession::on_data_end(const ServerReply& reply) {
  if (!send_empty_data_) {
    for (size_t i = 0; i < accepted_.size(); ++i) {
      if (accepted_[i]) settle(i, reply_result(reply));
    }
  }
  quit();
}

void ClientSession::connection_lost(std::string_view why) {
  if (phase_ == Phase::kDone) return;
  if (phase_ == Phase::kQuit) {
    phase_ = Phase::kDone;
    return;
  }
  if (phase_ == Phase::kHandshake) result_.tls_failed = true;
  fail_open(local_result(Outcome::kTemporary, "4.4.2", std::string(why)), false);
}

void ClientSession::timed_out() {
  if (phase_ == Phase::kDone) return;
  if (phase_ == Phase::kQuit) {
    phase_ = Phase::kDone;
    return;
  }
  if (phase_ == Phase::kHandshake) result_.tls_failed = true;
  fail_open(local_result(Outcome::kTemporary, "4.4.2", "timed out waiting for the server"), false);
}

void ClientSession::fail_open(RecipientResult result, bool say_quit) {
  for (size_t i = 0; i < settled_.size(); ++i) {
    if (!settled_[i]) settle(i, result);
  }
  if (say_quit) {
    quit();
  } else {
    phase_ = Phase::kDone;
  }
}

void ClientSession::settle(size_t index, RecipientResult result) {
  result_.recipients[index] = std::move(result);
  settled_[index] = true;
  accepted_[index] = false;
}

void ClientSession::quit() {
  for (size_t i = 0; i < settled_.size(); ++i) {
    if (!settled_[i]) {
      settle(i, local_result(Outcome::kTemporary, "4.4.2",
                             "the session ended without an answer for this recipient"));
    }
  }
  send("QUIT");
  phase_ = Phase::kQuit;
}

void ClientSession::send(std::string_view line) {
  output_ += line;
  output_ += "\r\n";
}

std::string ClientSession::take_output() {
  if (phase_ == Phase::kData) {
    produce_data();
    if (phase_ == Phase::kDataEnd) process();
  }
  return std::exchange(output_, {});
}

bool ClientSession::take_tls_request() {
  return std::exchange(tls_requested_, false);
}

std::chrono::milliseconds ClientSession::timeout() const {
  const ClientTimeouts& t = settings_.timeouts;
  switch (phase_) {
    case Phase::kGreeting:
      return t.greeting;
    case Phase::kTransaction:
      return !expected_.empty() && expected_.front() == Expect::kData ? t.data_start : t.command;
    case Phase::kData:
      return t.data_block;
    case Phase::kDataEnd:
      return t.data_end;
    case Phase::kQuit:
      return t.quit;
    case Phase::kDone:
      return std::chrono::milliseconds(0);
    default:
      return t.command;
  }
}

}  // namespace chapar::smtp::outbound
