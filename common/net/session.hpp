// SPDX-License-Identifier: AGPL-3.0-or-later
// The seam between a protocol and the network. A protocol session (SMTP, POP3, IMAP) is a
// ProtocolSession: bytes in, bytes out, and requests for slow work. It never touches a
// socket, the event loop or the clock; it asks its SessionHost. The libuv adapter
// (net/server.hpp) is one host; tests provide another and drive sessions as scripts.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace chapar::log {
class Logger;
}

namespace chapar::net {

enum class TlsMode { kNone, kStartTls, kImplicit };

struct PeerInfo {
  std::string address;  // textual IP address, no port
  uint16_t port = 0;
  bool loopback = false;
};

struct TlsInfo {
  std::string version;  // "TLSv1.3"
  std::string cipher;   // "TLS_AES_256_GCM_SHA384"
  int bits = 0;
  std::string server_name;  // SNI sent by the client, empty when none
};

// What the listener that accepted a connection is for, from configuration.
struct ListenerInfo {
  std::string name;  // "smtp", "submission", "submissions", "pop3", "pop3s", "imap", "imaps"
  TlsMode tls = TlsMode::kNone;
};

// The completion handle of one asynchronous operation: call it exactly once, from any thread,
// with the continuation to run on the connection's loop thread. If the connection has been
// closed meanwhile, the continuation is dropped unrun.
using LoopPoster = std::function<void(std::function<void()>)>;

// What a session may ask of the connection that carries it.
class SessionHost {
 public:
  virtual ~SessionHost() = default;

  // Queues bytes for the peer. Output is written in order; sending never blocks. What is
  // queued goes out when the host's call into the session returns; a session that acts on
  // an event from outside its own connection (another session's change) does so in
  // run_later(0), so that its output is written at once.
  virtual void send(std::string_view bytes) = 0;
  // Bytes queued but not yet accepted by the peer. Sessions that stream large answers
  // produce more only while this is below their chunk size, and wait for on_writable().
  virtual size_t pending_output() const = 0;

  // Starts a TLS handshake once all queued output has been written. Input that arrived after
  // the command that triggered it is discarded (RFC 3207 §4.2, RFC 2595 §3.1): the session
  // drops what it has buffered, the host drops plaintext that arrives before the handshake.
  // The host answers with ProtocolSession::on_tls_started() or closes the connection.
  virtual void start_tls() = 0;
  // Closes the connection once all queued output has been written. No further input is
  // delivered to the session.
  virtual void close() = 0;

  // Runs `work` on a worker thread, then `done` on the loop thread. `done` is dropped if the
  // connection has gone by then. Used for password hashing, MIME parsing of large messages.
  virtual void run_blocking(std::function<void()> work, std::function<void()> done) = 0;
  // Starts one asynchronous operation whose completion comes from another thread (the
  // store's writer). The host counts operations in flight: it keeps the session until they
  // complete and delays shutdown for them.
  virtual LoopPoster begin_async() = 0;
  // Runs `fn` on the loop thread after `delay` (throttling after a failed login). Dropped if
  // the connection has gone by then.
  virtual void run_later(std::chrono::milliseconds delay, std::function<void()> fn) = 0;

  virtual const PeerInfo& peer() const = 0;
  virtual const ListenerInfo& listener() const = 0;
  // Set once TLS is established (immediately for implicit TLS listeners).
  virtual const std::optional<TlsInfo>& tls() const = 0;
  virtual std::chrono::system_clock::time_point now() const = 0;
  // A logger that puts this connection's id on every line.
  virtual log::Logger& logger() = 0;
};

// A protocol conversation. The host calls these on the loop thread only.
class ProtocolSession {
 public:
  virtual ~ProtocolSession() = default;

  // The connection is ready (after the handshake on implicit TLS): send the greeting.
  virtual void start() = 0;
  // Bytes from the peer, in order, split anywhere. The session buffers what it cannot yet
  // process (an incomplete line, or input behind a command still waiting for slow work).
  virtual void receive(std::string_view bytes) = 0;
  // The handshake requested by start_tls() completed.
  virtual void on_tls_started() = 0;
  // Queued output fell below the host's low-water mark.
  virtual void on_writable() {}
  // No input for idle_timeout(): say goodbye (421, "* BYE", "-ERR") and close.
  virtual void on_idle_timeout() = 0;
  // The daemon is shutting down: finish the current command, then say goodbye and close.
  virtual void on_shutdown() = 0;
  // The peer closed the connection or it failed; the session is destroyed after this returns.
  virtual void on_disconnect() {}

  // How long the peer may stay silent in the current state.
  virtual std::chrono::milliseconds idle_timeout() const = 0;
  // Whether the peer is part-way through something it has to finish: a command line, a
  // message's content (DATA, BDAT), a literal, a SASL response. While it is, idle_timeout()
  // counts from the first byte of it, extended only by what the bytes received since earn at
  // the host's minimum data rate, so that a peer trickling a byte at a time is cut off
  // (Postfix's per-record deadline). Otherwise every input restarts the timeout. False while
  // the session waits for its own slow work.
  virtual bool mid_record() const = 0;
  // Bytes received but not yet processed; the host stops reading while this exceeds its
  // input limit, and resumes when it falls again.
  virtual size_t buffered_input() const = 0;
};

using SessionFactory = std::function<std::unique_ptr<ProtocolSession>(SessionHost& host)>;

}  // namespace chapar::net
