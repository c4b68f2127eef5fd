// SPDX-License-Identifier: AGPL-3.0-or-later
// One IMAP conversation (RFC 9051 IMAP4rev2, with IMAP4rev1 behaviour from RFC 3501 for
// clients that do not enable IMAP4rev2): bytes in, responses out, slow work through the
// SessionHost and the store's writer. No sockets, no loop, no clock.
//
// Commands are read by the CommandReader and parsed by parse_command; the command table
// (commands.cpp) names the states each command is valid in and its flags, and dispatch()
// checks those once. One command runs at a time: while it waits for the store's writer,
// for a password check or for the peer to read a large answer, further input stays
// buffered (pipelining is honoured in order, RFC 9051 §5.5).
//
// Changes made by other sessions and processes reach a selected session through the
// MailboxWatch; they are reported before the tagged response of the next command, during
// IDLE at once, and never as EXPUNGE during FETCH, STORE or SEARCH (RFC 9051 §7.5.1).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/auth/sasl.hpp"
#include "common/auth/throttle.hpp"
#include "common/config.hpp"
#include "common/net/session.hpp"
#include "common/result.hpp"
#include "imapd/arguments.hpp"
#include "imapd/command_reader.hpp"
#include "imapd/fetch.hpp"
#include "imapd/mailbox_view.hpp"
#include "imapd/mailbox_watch.hpp"
#include "imapd/message_cache.hpp"
#include "imapd/parser.hpp"
#include "libmailstore/login.hpp"
#include "libmailstore/store.hpp"

namespace chapar::imap {

// What the daemon shares with every session; all of it outlives the sessions and is used on
// the loop thread only.
struct Services {
  const config::Config& config;
  store::Store& store;
  auth::LoginThrottle& throttle;
  MailboxWatch& watch;
  // Facts of messages kept across sessions (none: every command derives them again).
  MessageCache* cache = nullptr;
};

class Session : public net::ProtocolSession, private MailboxWatch::Watcher {
 public:
  // Octets of a large answer produced per step: more is produced only while the host's
  // queued output is below this.
  static constexpr size_t kStreamChunk = 256 * 1024;

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
  size_t buffered_input() const override { return input_.size(); }
  bool mid_record() const override;

 private:
  enum class State { kNotAuthenticated, kAuthenticated, kSelected, kLogout };
  // What the input is read as.
  enum class Mode { kCommands, kIdle, kSasl };

  using Handler = void (Session::*)(Command&);
  struct CommandSpec {
    std::string_view name;
    uint8_t states;  // StateBit mask
    uint8_t flags;   // CommandFlag mask
    Handler handler;
  };
  enum StateBit : uint8_t { kNotAuth = 1, kAuth = 2, kSel = 4 };
  enum CommandFlag : uint8_t {
    kUid = 1,        // the UID form: the set holds UIDs
    kNoExpunge = 2,  // FETCH, STORE, SEARCH: no EXPUNGE responses (RFC 9051 §7.5.1)
    kReadWrite = 4,  // refused in a mailbox selected with EXAMINE
  };
  static const CommandSpec kCommands[];
  static const CommandSpec* find_command(std::string_view name);

  // The command being run.
  struct Current {
    std::string tag;
    std::string name;
    uint8_t flags = 0;
  };

  // ---- session.cpp: input, dispatch, completion ----
  void process();
  void dispatch(Command command);
  void refuse_literal();
  void handle_idle_line(std::string_view line);
  void handle_sasl_line(std::string_view line);
  // Takes one CRLF-terminated line from the input (IDLE, AUTHENTICATE); nullopt until one is
  // complete.
  std::optional<std::string> take_line();

  // Ends the current command: reports changes where allowed, then the tagged response.
  void finish(std::string_view status, std::string_view code, std::string_view text);
  void finish_ok(std::string_view text) { finish("OK", "", text); }
  void finish_no(std::string_view code, std::string_view text) { finish("NO", code, text); }
  void finish_bad(std::string_view text) { finish("BAD", "", text); }
  // The one place where a store error becomes a response (store_errors.cpp).
  void finish_store_error(const Error& error, std::string_view action);
  void send(std::string_view bytes);
  void untagged(std::string_view text);
  void close_with_bye(std::string_view text);
  bool uid_command() const { return (current_.flags & kUid) != 0; }
  bool expunge_allowed() const { return (current_.flags & kNoExpunge) == 0; }

  // Wraps a handler continuation for a completion that arrives on the writer thread.
  template <typename T>
  store::Completion<T> on_loop(std::function<void(Result<T>)> fn) {
    net::LoopPoster post = host_.begin_async();
    return [post, fn = std::move(fn)](Result<T> result) mutable {
      post([fn = std::move(fn), result = std::move(result)]() mutable { fn(std::move(result)); });
    };
  }

  // ---- cmd_any.cpp: any state ----
  void cmd_capability(Command& command);
  void cmd_noop(Command& command);
  void cmd_logout(Command& command);
  void cmd_id(Command& command);
  std::string capabilities() const;
  bool plaintext_login_allowed() const;

  // ---- cmd_auth.cpp: not authenticated ----
  void cmd_starttls(Command& command);
  void cmd_authenticate(Command& command);
  void cmd_login(Command& command);
  void sasl_reply(const auth::SaslStep& step);
  void authenticate(std::string user, std::string password, std::string_view mechanism);

  // ---- cmd_select.cpp: ENABLE, SELECT, EXAMINE, CLOSE, UNSELECT ----
  void cmd_enable(Command& command);
  void cmd_select(Command& command);
  void cmd_examine(Command& command);
  void cmd_close(Command& command);
  void cmd_unselect(Command& command);
  void select(Command& command, bool read_only);
  // Leaves the selected state without expunging.
  void deselect();
  void enable_condstore();

  // ---- cmd_mailbox.cpp: CREATE, DELETE, RENAME, (UN)SUBSCRIBE, NAMESPACE, STATUS ----
  void cmd_create(Command& command);
  void cmd_delete(Command& command);
  void cmd_rename(Command& command);
  void cmd_subscribe(Command& command);
  void cmd_unsubscribe(Command& command);
  void cmd_namespace(Command& command);
  void cmd_status(Command& command);
  void subscribe(Command& command, bool subscribed);
  // The UTF-8 name the argument names ("INBOX" in any case is INBOX); answers BAD itself and
  // returns nullopt when the argument is not a mailbox name.
  std::optional<std::string> mailbox_name(const Arg& arg);
  // "* STATUS name (items)" for `mailbox`.
  Result<std::string> status_response(const store::Mailbox& mailbox, uint32_t items);

  // ---- cmd_list.cpp ----
  void cmd_list(Command& command);
  void cmd_lsub(Command& command);

  // ---- cmd_append.cpp ----
  void cmd_append(Command& command);

  // ---- cmd_idle.cpp ----
  void cmd_idle(Command& command);

  // ---- cmd_expunge.cpp: CHECK, EXPUNGE, UID EXPUNGE ----
  void cmd_check(Command& command);
  void cmd_expunge(Command& command);
  // Sends EXPUNGE or VANISHED for UIDs this session removed.
  void announce_expunged(const std::vector<store::Uid>& uids);

  // ---- cmd_search.cpp ----
  void cmd_search(Command& command);

  // ---- cmd_fetch.cpp ----
  void cmd_fetch(Command& command);
  void start_fetch(std::vector<FetchTarget> targets, FetchRequest request,
                   std::set<store::Uid> seen_set);
  // Produces the running FETCH's answer while the host's queued output is low.
  void pump_fetch();

  // ---- cmd_store.cpp ----
  void cmd_store(Command& command);

  // ---- cmd_copy.cpp: COPY, MOVE ----
  void cmd_copy(Command& command);
  void cmd_move(Command& command);
  void copy_or_move(Command& command, bool move);

  // ---- sync.cpp: reporting changes of the selected mailbox ----
  void on_mailbox_changed(store::MailboxId mailbox, store::ModSeq modseq) override;
  // Reports what changed since the view's MODSEQ. `allow_expunge` per RFC 9051 §7.5.1;
  // `force` asks the store even without a notification (NOOP, CHECK, IDLE).
  void sync(bool allow_expunge, bool force = false);
  // "FLAGS (...)" of an entry, with MODSEQ and UID as the enabled extensions ask.
  std::string flag_update(uint32_t seq, const store::Entry& entry, bool with_uid) const;
  // A FLAGS response if the entries carry keywords the client was not told of.
  void note_keywords(const std::vector<std::string>& keywords);
  std::string flags_response() const;
  std::string permanent_flags_response() const;

  net::SessionHost& host_;
  Services services_;
  store::Login login_;
  CommandReader reader_;
  std::string input_;
  State state_ = State::kNotAuthenticated;
  Mode mode_ = Mode::kCommands;
  Current current_;
  bool busy_ = false;        // a command is running
  bool processing_ = false;  // inside process()
  bool closing_ = false;
  bool shutdown_ = false;
  bool tls_pending_ = false;
  int bad_commands_ = 0;

  // ENABLE (RFC 5161) and implicit enabling (RFC 7162 §3.1).
  bool rev2_ = false;
  bool utf8_ = false;  // UTF8=ACCEPT or IMAP4rev2: mailbox names in UTF-8
  bool condstore_ = false;
  bool qresync_ = false;

  std::optional<store::Account> account_;
  std::optional<MailboxView> view_;
  // The highest MODSEQ that notifications announced for the selected mailbox since the
  // store was last asked (MailboxWatch::kUnknownModSeq when one did not say); the store is
  // asked again while it is above the view's MODSEQ.
  store::ModSeq announced_modseq_ = 0;
  bool idle_report_pending_ = false;

  std::optional<auth::SaslServer> sasl_;
  std::string sasl_mechanism_;
  std::unique_ptr<FetchJob> fetch_;
};

}  // namespace chapar::imap
