// SPDX-License-Identifier: AGPL-3.0-or-later
// One SMTP conversation (RFC 5321 with the ESMTP extensions listed at EHLO): bytes in,
// replies out, slow work (password checks, delivery commits, parsing large messages)
// through the SessionHost. No sockets, no loop, no clock.
//
// Policy comes from the name of the listener that accepted the connection:
//  - "submission" and "submissions" (RFC 6409, RFC 8314): a mail transaction needs AUTH,
//    and, except from loopback, TLS first (530 5.7.0 like Postfix with
//    smtpd_tls_security_level = encrypt); any recipient once authenticated.
//  - anything else, "smtp" above all (the MX on port 25): anyone may send to local
//    recipients; other domains only after AUTH (554 5.7.1 Relay access denied).
// Everywhere, AUTH needs TLS except from loopback (RFC 4954 §4: no plaintext passwords),
// and an authenticated client may only use its own addresses as MAIL FROM (553 5.7.1).
//
// Pipelining (RFC 2920): every buffered command is processed in order; while slow work is
// outstanding, input stays buffered and is taken up when the work completes. After
// STARTTLS whatever was buffered behind it is dropped and the session starts over
// (RFC 3207 §4.2).
//
// Delivery: the message (with Return-Path and Received prepended) goes to the store in one
// transaction: an INBOX entry per distinct local account and, for an authenticated client,
// the remote recipients into the outbound queue. 250 is sent only when that transaction is
// durable.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/auth/sasl.hpp"
#include "common/auth/throttle.hpp"
#include "common/config.hpp"
#include "common/net/line_reader.hpp"
#include "common/net/session.hpp"
#include "common/result.hpp"
#include "libmailstore/login.hpp"
#include "libmailstore/store.hpp"
#include "smtpd/command_parser.hpp"
#include "smtpd/data_reader.hpp"
#include "smtpd/reply.hpp"

namespace chapar::smtp {

// What the daemon shares with every session. All of it outlives the sessions and is used on
// the loop thread only.
struct Services {
  const config::Config& config;
  store::Store& store;
  auth::LoginThrottle& throttle;
};

// The policy a listener stands for, from its configured name.
enum class Role {
  kMx,          // "smtp" and any other name: mail for local recipients from anyone
  kSubmission,  // "submission", "submissions": authenticated clients only
};
Role role_of_listener(std::string_view name);

class Session : public net::ProtocolSession {
 public:
  // RFC 4954 §4: 12288 octets are enough for any SASL line of the mechanisms in use.
  static constexpr size_t kMaxAuthLine = 12288;
  // Messages up to this size are parsed on the loop thread; larger ones on a worker.
  static constexpr size_t kPrepareInlineLimit = 256 * 1024;

  Session(net::SessionHost& host, Services services);
  ~Session() override;

  void start() override;
  void receive(std::string_view bytes) override;
  void on_tls_started() override;
  void on_idle_timeout() override;
  void on_shutdown() override;
  void on_disconnect() override;
  std::chrono::milliseconds idle_timeout() const override;
  size_t buffered_input() const override { return reader_.buffered(); }
  bool mid_record() const override;

 private:
  // Where the conversation stands (RFC 5321 §4.1.4); a command lists the phases it is valid in.
  enum Phase : uint8_t {
    kInitial = 1,    // before EHLO/HELO
    kGreeted = 2,    // no transaction
    kMail = 4,       // MAIL accepted
    kRecipient = 8,  // at least one RCPT accepted
    kChunking = 16,  // BDAT chunks arriving (RFC 3030)
  };
  static constexpr uint8_t kAnyPhase = kInitial | kGreeted | kMail | kRecipient | kChunking;

  // What the next input is.
  enum class Mode { kCommand, kAuthResponse, kData, kChunk, kTlsHandshake, kClosed };

  enum CommandFlag : uint8_t {
    kTransaction = 1,  // part of a mail transaction: TLS and AUTH first on submission
    kCredentials = 2,  // carries a password: TLS first unless from loopback
    kCounted = 4,      // BDAT: a chunk of data follows the line, refused or not
  };

  using Handler = void (Session::*)(std::string_view args);
  struct Command {
    std::string_view name;
    uint8_t phases;
    uint8_t flags;
    Handler handler;
    std::string_view out_of_sequence;  // the 503 text when the phase is wrong
  };
  static const Command kCommands[];

  struct Transaction {
    std::optional<Mailbox> sender;
    MailParameters params;
    std::vector<std::string> recipients;  // every accepted RCPT, as given
    std::vector<store::AccountId> local;  // distinct accounts
    std::vector<uint64_t> quotas;         // quota_bytes of each of `local` at RCPT
    std::vector<store::QueueRecipient> remote;
    std::shared_ptr<store::Spool> spool;
    std::optional<DataReader> data;
    std::optional<ChunkReader> chunks;
    uint64_t chunk_length = 0;
    bool last_chunk = false;
  };

  // Input processing.
  void resume();
  bool step();
  void dispatch(const net::Line& line);
  std::optional<Rejection> check(const Command& command) const;
  void flush();

  // Replies. Negative replies count towards max_errors, after which the session ends.
  void reply(ReplyCode code, std::string_view text);
  void reply(const Rejection& rejection) { reply(rejection.reply, rejection.text); }
  void reply_uncounted(ReplyCode code, std::string_view text);
  void close_with(ReplyCode code, std::string_view text);

  // Policy.
  bool tls_active() const { return host_.tls().has_value(); }
  bool starttls_available() const;
  bool auth_allowed() const;

  // session.cpp
  void cmd_ehlo(std::string_view args);
  void cmd_helo(std::string_view args);
  void cmd_rset(std::string_view args);
  void cmd_noop(std::string_view args);
  void cmd_quit(std::string_view args);
  void cmd_vrfy(std::string_view args);
  void cmd_help(std::string_view args);
  void cmd_starttls(std::string_view args);
  void cmd_not_implemented(std::string_view args);
  bool greet(std::string_view args, bool extended);
  void reset_transaction();

  // session_auth.cpp
  void cmd_auth(std::string_view args);
  void auth_line(const net::Line& line);
  void sasl_step(const auth::SaslStep& step);
  void authenticate(auth::Credentials credentials);
  void login_failed(const Error& error);

  // session_mail.cpp
  void cmd_mail(std::string_view args);
  void cmd_rcpt(std::string_view args);
  void cmd_data(std::string_view args);
  void cmd_bdat(std::string_view args);
  void refuse_chunk(std::string_view args, const Rejection& rejection);
  // Creates the spool and writes the trace header fields into it.
  Status start_content();
  void end_of_data();
  void end_of_chunk();
  void commit();
  void deliver(Result<store::PreparedMessage> prepared);
  void delivered(Result<store::DeliveryReceipt> receipt, uint64_t size);
  // Ends the transaction with a refusal after its content arrived.
  void fail_transaction(ReplyCode code, std::string_view text);
  // The one log line per transaction.
  void log_transaction(std::string_view result, uint64_t size, std::string_view id,
                       std::optional<store::QueueId> queued = std::nullopt);
  // The one place where a store error becomes an SMTP reply.
  Rejection store_error(const Error& error, std::string_view what);

  net::SessionHost& host_;
  Services services_;
  Role role_;
  store::Login login_;
  net::LineReader reader_;
  Mode mode_ = Mode::kCommand;
  uint8_t phase_ = kInitial;
  bool waiting_ = false;     // slow work outstanding: input stays buffered
  bool processing_ = false;  // inside resume()
  bool shutdown_ = false;
  std::string out_;
  bool last_line_bare_lf_ = false;  // the command line just read ended in a bare LF

  std::string helo_;
  bool extended_ = false;
  std::optional<store::Account> account_;
  std::optional<auth::SaslServer> sasl_;
  std::string sasl_mechanism_;
  uint32_t errors_ = 0;
  uint32_t messages_ = 0;
  Transaction txn_;
  // A refused BDAT: its chunk is read and dropped, then the refusal is sent.
  std::optional<ChunkReader> discard_;
  std::optional<Rejection> discard_reply_;
};

}  // namespace chapar::smtp
