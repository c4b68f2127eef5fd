// SPDX-License-Identifier: AGPL-3.0-or-later
// The one TOML configuration file read by every daemon and by chaparctl. Every key has a
// default fit for production except where noted; loading rejects unknown keys, wrong types
// and bad values with "FILE:LINE: KEY: reason", and daemons then exit with kExitConfig.
// KEY is dotted, with 0-based indexes into arrays of tables (`smtpd.listeners[1].port`);
// when a file has several errors, the message holds one such line for each, in file order.
// Relative paths in the file are taken relative to the directory of the file.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/net/session.hpp"
#include "common/result.hpp"

namespace chapar::config {

// sysexits.h EX_CONFIG: what a daemon exits with when its configuration is unusable.
inline constexpr int kExitConfig = 78;

struct Listener {
  std::string name;  // what the listener is for, e.g. "submission"
  std::string address = "0.0.0.0";
  uint16_t port = 0;  // default: the standard port of the name (25, 587, 465, 110, ...)
  // Default: implicit for submissions, pop3s and imaps; starttls for the others.
  net::TlsMode tls = net::TlsMode::kNone;
};

// Limits every daemon applies to its connections.
struct ConnectionLimits {
  uint32_t max_connections = 1000;
  uint32_t max_connections_per_ip = 20;
  uint32_t new_connections_per_ip_per_minute = 60;
  size_t max_output_buffer = 4 * 1024 * 1024;  // a peer that does not read is cut off here
  size_t max_input_buffer = 256 * 1024;        // reading pauses while this much is unprocessed
  // A peer part-way through a command, a message or a literal earns one second beyond the
  // state's timeout for every this many bytes it sends (net::ProtocolSession::mid_record).
  uint32_t min_data_rate = 500;
};

struct Server {
  std::string hostname;  // default: the machine's host name
  std::string user;      // drop to this user after binding when started as root
  std::string log_level = "info";
};

struct Store {
  std::filesystem::path data_dir = "/var/lib/chapar";
};

struct Tls {
  std::filesystem::path certificate;  // PEM chain; required when any listener uses TLS
  std::filesystem::path key;
};

struct Auth {
  std::chrono::milliseconds failure_delay{500};        // first failed login from an IP
  std::chrono::milliseconds max_failure_delay{15000};  // the delay doubles up to this
  std::chrono::seconds failure_window{900};            // failures older than this are forgotten
  // Failed logins within the window, from all addresses together, above which every login
  // is slowed a little (guessing spread thinly over many accounts and addresses).
  uint32_t global_failure_threshold = 100;
  // How long a successful password check is remembered (auth::LoginCache); zero: never.
  std::chrono::seconds login_cache{3600};
};

struct Outbound {
  std::string smarthost;                   // "host:port"; empty: deliver to MX hosts
  std::string smarthost_tls = "starttls";  // "starttls" | "implicit" | "none"
  std::string smarthost_user;
  std::filesystem::path smarthost_password_file;
  uint16_t mx_port = 25;
  std::string resolver;  // "host:port"; empty: the system resolver
  bool verify_certificates = false;
  std::vector<std::chrono::seconds> retry_delays{
      std::chrono::minutes(5),  std::chrono::minutes(10), std::chrono::minutes(20),
      std::chrono::minutes(40), std::chrono::minutes(80), std::chrono::minutes(160)};
  std::chrono::seconds give_up_after{std::chrono::hours(24 * 5)};
  std::chrono::seconds warn_after{std::chrono::hours(4)};
  uint32_t max_concurrent_deliveries = 20;
  uint32_t max_per_destination = 4;
  // Waits for the remote host (RFC 5321 §4.5.3.2): the connection, the greeting and the
  // replies to EHLO, MAIL, RCPT, DATA's 354, each block of the message, the final ".".
  std::chrono::seconds connect_timeout{30};
  std::chrono::seconds reply_timeout{300};
  std::chrono::seconds data_start_timeout{120};
  std::chrono::seconds data_block_timeout{180};
  std::chrono::seconds data_end_timeout{600};
  // A failure report carries the whole message when RET=FULL asked for it and it is no
  // larger than `full_return_limit`; without RET, when it is no larger than
  // `default_return_limit`; otherwise only the message's header.
  uint64_t full_return_limit = 10 * 1024 * 1024;
  uint64_t default_return_limit = 64 * 1024;
};

struct Smtpd {
  std::vector<Listener> listeners;
  ConnectionLimits connections;
  size_t max_message_size = 50 * 1024 * 1024;
  uint32_t max_recipients = 1000;
  uint32_t max_messages_per_connection = 100;
  size_t max_line_length = 1000;              // RFC 5321 §4.5.3.1.4, CRLF included
  std::chrono::seconds command_timeout{300};  // RFC 5321 §4.5.3.2.7
  std::chrono::seconds data_timeout{600};
  uint32_t max_errors = 10;
  Outbound outbound;
};

struct Pop3d {
  std::vector<Listener> listeners;
  ConnectionLimits connections;
  size_t max_line_length = 512;            // RFC 2449 §4: 255 octets per argument
  std::chrono::seconds idle_timeout{600};  // RFC 1939 §3: at least 10 minutes
};

struct Imapd {
  std::vector<Listener> listeners;
  ConnectionLimits connections;
  size_t max_command_length = 64 * 1024;       // outside literals
  size_t max_literal_size = 50 * 1024 * 1024;  // advertised as APPENDLIMIT
  // Rendered ENVELOPEs and searched header values kept across sessions (imap::MessageCache):
  // about 600 octets per message, so some 100,000 messages.
  size_t message_cache_size = 64 * 1024 * 1024;
  std::chrono::seconds idle_timeout{1800};  // RFC 9051 §5.4: at least 30 minutes
};

struct Config {
  std::filesystem::path path;
  Server server;
  Store store;
  Tls tls;
  Auth auth;
  Smtpd smtpd;
  Pop3d pop3d;
  Imapd imapd;
};

struct HostPort {
  std::string host;  // a name or an IP address, without brackets
  uint16_t port = 0;
};

// Parses "host", "host:port", "[v6addr]" or "[v6addr]:port" (`default_port` when there is
// no port; a port of 0 is rejected).
Result<HostPort> parse_host_port(std::string_view text, uint16_t default_port);

// Reads and validates the file. The error message names the file, the line and the key.
Result<Config> load(const std::filesystem::path& path);
// The same, from text already in memory; `path` is used in error messages.
Result<Config> parse(std::string_view text, const std::filesystem::path& path);

}  // namespace chapar::config
