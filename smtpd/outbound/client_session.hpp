// SPDX-License-Identifier: AGPL-3.0-or-later
// The client side of one SMTP connection (RFC 5321), sans I/O: bytes from the server go in,
// commands and message data come out, and at the end there is a result for every recipient.
// The owner (transport.hpp on a libuv loop, a script in tests) moves the bytes, performs
// the TLS handshake when asked and honours the deadline of the current state.
//
// One transaction per connection: MAIL, RCPT for every recipient of the envelope (all for
// one destination), DATA with dot-stuffing, QUIT. Along the way: EHLO with a fall-back to
// HELO, STARTTLS whenever offered (RFC 3207; opportunistic unless required), AUTH PLAIN or
// LOGIN when credentials are given (RFC 4954), PIPELINING (RFC 2920), SIZE (RFC 1870),
// 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531), DSN parameters (RFC 3461), REQUIRETLS (RFC 8689).
//
// Every recipient ends as delivered, temporary (try again, maybe at another host) or
// permanent (bounce), with the reply that decided it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/auth/sasl.hpp"
#include "common/result.hpp"
#include "libmailstore/types.hpp"
#include "smtpd/outbound/reply_reader.hpp"

namespace chapar::smtp::outbound {

enum class TlsPolicy {
  kNone,           // never STARTTLS
  kOpportunistic,  // STARTTLS when offered; plaintext otherwise
  kRequired,       // no transaction without TLS
};

// RFC 5321 §4.5.3.2: how long to wait for each reply.
struct ClientTimeouts {
  std::chrono::milliseconds greeting{std::chrono::minutes(5)};    // §4.5.3.2.1
  std::chrono::milliseconds command{std::chrono::minutes(5)};     // EHLO, MAIL §4.5.3.2.2, RCPT
  std::chrono::milliseconds data_start{std::chrono::minutes(2)};  // §4.5.3.2.4
  std::chrono::milliseconds data_block{std::chrono::minutes(3)};  // §4.5.3.2.5
  std::chrono::milliseconds data_end{std::chrono::minutes(10)};   // §4.5.3.2.6
  std::chrono::milliseconds quit{std::chrono::seconds(30)};
};

struct ClientSettings {
  std::string helo_name;  // this host's name, for EHLO
  TlsPolicy tls = TlsPolicy::kOpportunistic;
  bool implicit_tls = false;                     // the connection is already encrypted (RFC 8314)
  std::optional<auth::Credentials> credentials;  // for a smarthost
  size_t data_chunk = 64 * 1024;  // message octets produced per take_output() during DATA
  ClientTimeouts timeouts;
  ReplyLimits reply_limits;
};

struct Envelope {
  std::string sender;  // "" for the null reverse-path
  std::vector<store::QueueRecipient> recipients;
  store::DsnEnvelope dsn;
};

// The message as it is to be sent, before dot-stuffing.
struct MessageSource {
  uint64_t size = 0;
  bool eight_bit = false;  // octets above 127 somewhere: BODY=8BITMIME (RFC 6152)
  // Up to `length` octets at `offset`; fewer only at the end.
  std::function<Result<std::string>(uint64_t offset, size_t length)> read;
};

enum class Outcome { kDelivered, kTemporary, kPermanent };

struct RecipientResult {
  Outcome outcome = Outcome::kTemporary;
  std::string reply;    // "550 5.1.1 No such user", or a local reason when no reply decided
  std::string status;   // RFC 3463 code: "5.1.1"
  bool remote = false;  // `reply` came from the server (a DSN's Diagnostic-Code)
};

struct SessionResult {
  std::vector<RecipientResult> recipients;  // in envelope order
  bool tls = false;                         // the transaction ran over TLS
  bool tls_failed = false;                  // the handshake failed (a plaintext retry may work)
  bool dsn_supported = false;  // the server took the DSN parameters along (RFC 3461 §5.2)
};

class ClientSession {
 public:
  ClientSession(ClientSettings settings, Envelope envelope, MessageSource message);

  // Bytes from the server, split anywhere.
  void receive(std::string_view bytes);
  // The handshake asked for by wants_tls() completed; `verified`: the certificate chains
  // to a trusted root and matches the host name.
  void tls_started(bool verified);
  // The connection failed or the peer closed it; `why` goes into the results.
  void connection_lost(std::string_view why);
  // The deadline of timeout() passed without a reply.
  void timed_out();

  // Bytes to send now. While the message is being sent, each call adds up to data_chunk
  // more octets of it; call again while sending_data().
  std::string take_output();
  bool sending_data() const { return phase_ == Phase::kData; }
  // After sending take_output(), start the TLS handshake (nothing more is sent until
  // tls_started()). The flag is cleared by the call.
  bool take_tls_request();
  // Nothing more to say: send what take_output() gives and close.
  bool done() const { return phase_ == Phase::kDone; }
  // How long to wait for the next reply in the current state.
  std::chrono::milliseconds timeout() const;

  // Final once done().
  const SessionResult& result() const { return result_; }
  const Capabilities& capabilities() const { return caps_; }

 private:
  enum class Phase {
    kGreeting,
    kEhlo,
    kHelo,
    kStartTls,
    kHandshake,
    kAuth,
    kAuthLoginUser,
    kAuthLoginPassword,
    kTransaction,  // replies to MAIL, RCPT and DATA outstanding
    kData,         // sending the message
    kDataEnd,      // waiting for the reply to the final dot
    kQuit,
    kDone,
  };
  enum class Expect { kMail, kRcpt, kData };

  void process();
  void handle(const ServerReply& reply);
  void on_greeting(const ServerReply& reply);
  void on_ehlo(const ServerReply& reply);
  void on_helo(const ServerReply& reply);
  void on_starttls(const ServerReply& reply);
  void on_auth(const ServerReply& reply);
  void on_transaction(const ServerReply& reply);
  void on_data_end(const ServerReply& reply);

  void after_hello();
  void start_auth_or_transaction();
  void start_transaction();
  void send_next_command();
  void start_data();
  void produce_data();
  bool needs_smtputf8() const;
  std::string mail_command() const;
  std::string rcpt_command(const store::QueueRecipient& recipient) const;

  // Ends the session: every recipient still open gets `result`, then QUIT (when the
  // connection is still usable) and done.
  void fail_open(RecipientResult result, bool say_quit);
  void settle(size_t index, RecipientResult result);
  void quit();
  void send(std::string_view line);

  ClientSettings settings_;
  Envelope envelope_;
  MessageSource message_;
  ReplyReader reader_;
  Phase phase_ = Phase::kGreeting;
  Capabilities caps_;
  bool tls_ = false;
  bool tls_verified_ = false;
  bool tls_requested_ = false;
  std::string output_;

  // The transaction.
  std::deque<Expect> expected_;  // replies still to come, in order
  size_t next_rcpt_ = 0;         // the next RCPT to send (without pipelining)
  size_t rcpt_replies_ = 0;      // RCPT replies seen
  bool commands_sent_ = false;   // MAIL (and with pipelining RCPT and DATA) sent
  bool mail_failed_ = false;
  std::vector<bool> settled_;   // the recipient has its result
  std::vector<bool> accepted_;  // RCPT answered 2xx, waiting for the end of data
  uint64_t data_offset_ = 0;
  bool at_line_start_ = true;
  char last_octet_ = '\n';
  bool send_empty_data_ = false;  // 354 with no recipient accepted (RFC 2920 §3.1)

  SessionResult result_;
};

}  // namespace chapar::smtp::outbound
