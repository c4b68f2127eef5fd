// SPDX-License-Identifier: AGPL-3.0-or-later
// One POP3 conversation (RFC 1939, with CAPA, RESP-CODES, PIPELINING of RFC 2449, STLS of
// RFC 2595 and AUTH of RFC 5034): bytes in, replies out, slow work through the SessionHost.
//
// The maildrop is the account's INBOX as it was at login, held under an exclusive lock.
// DELE only marks; QUIT in the TRANSACTION state removes the marked messages through the
// store's writer and answers +OK after the removal is durable. A session that ends any
// other way (dropped connection, idle timeout, shutdown) removes nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/auth/sasl.hpp"
#include "common/auth/throttle.hpp"
#include "common/config.hpp"
#include "common/net/line_reader.hpp"
#include "common/net/session.hpp"
#include "common/result.hpp"
#include "libmailstore/login.hpp"
#include "libmailstore/store.hpp"
#include "pop3d/command.hpp"
#include "pop3d/maildrop.hpp"
#include "pop3d/message_stream.hpp"

namespace chapar::pop3 {

// What the daemon shares with every session; all of it outlives the sessions and is used on
// the loop thread only.
struct Services {
  const config::Config& config;
  store::Store& store;
  auth::LoginThrottle& throttle;
};

class Session : public net::ProtocolSession {
 public:
  // Octets of a RETR or TOP answer produced per step: more is produced only while the
  // host's queued output is below this.
  static constexpr size_t kStreamChunk = 64 * 1024;

  Session(net::SessionHost& host, Services services);
  ~Session() override;

  void start() override;
  void receive(std::string_view bytes) override;
  void on_tls_started() override;
  void on_writable() override;
  void on_idle_timeout() override;
  void on_shutdown() override;
  void on_disconnect() override;
  std::chrono::milliseconds idle_timeout() const override;
  size_t buffered_input() const override { return reader_.buffered(); }
  // Input left over once no work is awaited is a partial command line.
  bool mid_record() const override {
    return wait_ == Wait::kNone && !closing_ && reader_.buffered() > 0;
  }

 private:
  // Slow work the session waits for; buffered input stays unprocessed meanwhile.
  enum class Wait { kNone, kLogin, kStream, kUpdate, kTls };

  struct Transfer {
    store::MessageId message = 0;
    uint64_t offset = 0;
    uint64_t size = 0;
    MessageStream stream;
  };

  using Handler = void (Session::*)(const CommandLine&);
  static const Handler kHandlers[];

  // Processes complete lines from the input while nothing is awaited.
  void process();
  void dispatch(std::string_view line);
  void finish_wait();
  void send_line(std::string_view line);
  void close_with(std::string_view line);
  // Ends the connection without a reply, releasing the maildrop.
  void drop_connection();
  bool plaintext_allowed() const;

  void cmd_user(const CommandLine& command);
  void cmd_pass(const CommandLine& command);
  void cmd_auth(const CommandLine& command);
  void cmd_stls(const CommandLine& command);
  void cmd_capa(const CommandLine& command);
  void cmd_quit(const CommandLine& command);
  void cmd_stat(const CommandLine& command);
  void cmd_list(const CommandLine& command);
  void cmd_retr(const CommandLine& command);
  void cmd_dele(const CommandLine& command);
  void cmd_noop(const CommandLine& command);
  void cmd_rset(const CommandLine& command);
  void cmd_top(const CommandLine& command);
  void cmd_uidl(const CommandLine& command);

  // SASL (RFC 5034 §4): answers one step of the exchange in progress.
  void sasl_reply(const auth::SaslStep& step);

  // Login and opening the maildrop.
  void authenticate(std::string username, std::string password, std::string_view method);
  void open_maildrop(const store::Account& account, std::string_view method);
  // The one place where a store error becomes a POP3 reply.
  void reply_store_error(const Error& error);

  // Looks up the message named by `arg`, answering -ERR itself when there is none.
  std::optional<uint32_t> message_number(std::string_view arg);
  // Whether the stored message is still there, answering -ERR itself when it is not.
  bool message_available(uint32_t number);
  void start_transfer(uint32_t number, std::optional<uint32_t> body_lines);
  // Produces the answer of the current RETR/TOP while the host's output is low. Returns true
  // when the transfer has ended.
  bool pump();

  void apply_deletions();

  net::SessionHost& host_;
  Services services_;
  store::Login login_;
  State state_ = State::kAuthorization;
  Wait wait_ = Wait::kNone;
  net::LineReader reader_;
  bool processing_ = false;  // inside process(): completions that arrive at once just return
  bool closing_ = false;
  bool shutdown_ = false;
  std::optional<std::string> user_;  // from USER, for the next PASS
  std::optional<auth::SaslServer> sasl_;
  std::string sasl_mechanism_;
  std::string account_;  // the address logged in, for log lines
  store::MaildropLock lock_;
  Maildrop maildrop_;
  std::optional<Transfer> transfer_;
  uint32_t retrieved_ = 0;
};

}  // namespace chapar::pop3
