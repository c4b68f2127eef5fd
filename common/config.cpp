// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/config.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "common/log.hpp"

namespace chapar::config {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxSize = std::numeric_limits<int64_t>::max();
constexpr int64_t kMaxU32 = std::numeric_limits<uint32_t>::max();
constexpr int64_t kMaxPort = 65535;

struct Problem {
  int line = 0;
  std::string text;
};

// Collects every problem of one file; the caller reports them sorted by line.
class Problems {
 public:
  explicit Problems(fs::path file) : file_(std::move(file)) {}

  void add(int line, std::string_view key, std::string_view reason) {
    problems_.push_back({line, fmt::format("{}:{}: {}: {}", file_.string(), line, key, reason)});
  }
  bool empty() const { return problems_.empty(); }
  size_t size() const { return problems_.size(); }

  Error error() {
    std::stable_sort(problems_.begin(), problems_.end(),
                     [](const Problem& a, const Problem& b) { return a.line < b.line; });
    std::string message;
    for (const Problem& p : problems_) {
      if (!message.empty()) message += '\n';
      message += p.text;
    }
    return Error{Errc::kInvalidArgument, std::move(message)};
  }

 private:
  fs::path file_;
  std::vector<Problem> problems_;
};

int line_of(const toml::node& node) {
  return static_cast<int>(node.source().begin.line);
}

// Reads the keys of one table. Each accessor looks up a key, checks its type and range and
// stores it; finish() reports the keys nobody asked for.
class TableReader {
 public:
  TableReader(Problems& problems, const toml::table& table, std::string prefix)
      : problems_(problems), table_(table), prefix_(std::move(prefix)) {}

  std::string name(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
  }

  // The line of `key`, or of the table when the key is absent.
  int line(std::string_view key) const {
    if (const toml::node* n = table_.get(key)) return line_of(*n);
    return line_of(table_);
  }

  void fail(std::string_view key, std::string_view reason) {
    problems_.add(line(key), name(key), reason);
  }

  const toml::node* get(std::string_view key) {
    seen_.emplace_back(key);
    return table_.get(key);
  }

  bool text(std::string_view key, std::string& out) {
    const toml::node* n = get(key);
    if (!n) return false;
    if (!n->is_string()) return wrong_type(key, "a string");
    out = n->as_string()->get();
    return true;
  }

  void path(std::string_view key, fs::path& out) {
    std::string value;
    if (text(key, value)) out = value;
  }

  template <typename T>
  bool number(std::string_view key, T& out, int64_t min, int64_t max) {
    const toml::node* n = get(key);
    if (!n) return false;
    if (!n->is_integer()) return wrong_type(key, "an integer");
    int64_t v = n->as_integer()->get();
    if (v < min || v > max) {
      fail(key, max == kMaxSize ? fmt::format("must be at least {}", min)
                                : fmt::format("must be between {} and {}", min, max));
      return false;
    }
    out = static_cast<T>(v);
    return true;
  }

  template <typename Rep, typename Period>
  void duration(std::string_view key, std::chrono::duration<Rep, Period>& out, int64_t min) {
    int64_t v = 0;
    if (number(key, v, min, kMaxU32)) out = std::chrono::duration<Rep, Period>(v);
  }

  void flag(std::string_view key, bool& out) {
    const toml::node* n = get(key);
    if (!n) return;
    if (!n->is_boolean()) {
      wrong_type(key, "true or false");
      return;
    }
    out = n->as_boolean()->get();
  }

  const toml::table* table(std::string_view key) {
    const toml::node* n = get(key);
    if (!n) return nullptr;
    if (!n->is_table()) {
      wrong_type(key, "a table");
      return nullptr;
    }
    return n->as_table();
  }

  const toml::array* array(std::string_view key, std::string_view what) {
    const toml::node* n = get(key);
    if (!n) return nullptr;
    if (!n->is_array()) {
      wrong_type(key, what);
      return nullptr;
    }
    return n->as_array();
  }

  void finish() {
    for (auto&& [key, node] : table_) {
      if (std::find(seen_.begin(), seen_.end(), key.str()) != seen_.end()) continue;
      problems_.add(static_cast<int>(key.source().begin.line), name(key.str()), "unknown key");
    }
  }

 private:
  bool wrong_type(std::string_view key, std::string_view what) {
    fail(key, fmt::format("expected {}", what));
    return false;
  }

  Problems& problems_;
  const toml::table& table_;
  std::string prefix_;
  std::vector<std::string> seen_;
};

bool is_ip_address(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

// RFC 1123 §2.1 host names: dot-separated labels of letters, digits and hyphens.
bool is_host_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  size_t label = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      if (label == 0 || label > 63 || name[i - 1] == '-' || name[i - label] == '-') return false;
      label = 0;
      continue;
    }
    char c = name[i];
    bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
    ++label;
  }
  return true;
}

std::string default_hostname() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

bool parse_tls_mode(std::string_view text, net::TlsMode& out) {
  if (text == "none") {
    out = net::TlsMode::kNone;
  } else if (text == "starttls") {
    out = net::TlsMode::kStartTls;
  } else if (text == "implicit") {
    out = net::TlsMode::kImplicit;
  } else {
    return false;
  }
  return true;
}

struct Role {
  std::string_view name;
  uint16_t port;
  net::TlsMode tls;
};

constexpr Role kSmtpRoles[] = {{"smtp", 25, net::TlsMode::kStartTls},
                               {"submission", 587, net::TlsMode::kStartTls},
                               {"submissions", 465, net::TlsMode::kImplicit}};
constexpr Role kPop3Roles[] = {{"pop3", 110, net::TlsMode::kStartTls},
                               {"pop3s", 995, net::TlsMode::kImplicit}};
constexpr Role kImapRoles[] = {{"imap", 143, net::TlsMode::kStartTls},
                               {"imaps", 993, net::TlsMode::kImplicit}};

// Where each listener was configured, for checks that span sections.
struct ListenerSite {
  std::string key;
  int line = 0;
  const Listener* listener = nullptr;
};

class Loader {
 public:
  Loader(const fs::path& path, Config& config) : problems_(path), config_(config) {}

  Problems& problems() { return problems_; }

  void root(const toml::table& table) {
    TableReader r(problems_, table, "");
    if (const toml::table* t = r.table("server")) server(*t);
    if (const toml::table* t = r.table("store")) store(*t);
    if (const toml::table* t = r.table("tls")) tls(*t);
    if (const toml::table* t = r.table("auth")) auth(*t);
    if (const toml::table* t = r.table("smtpd")) smtpd(*t);
    if (const toml::table* t = r.table("pop3d")) pop3d(*t);
    if (const toml::table* t = r.table("imapd")) imapd(*t);
    r.finish();
  }

  // Checks that need more than one key; run once every key read well.
  void cross_checks() {
    bool has_tls = !config_.tls.certificate.empty() && !config_.tls.key.empty();
    for (size_t i = 0; i < sites_.size(); ++i) {
      const ListenerSite& site = sites_[i];
      if (site.listener->tls != net::TlsMode::kNone && !has_tls) {
        problems_.add(site.line, site.key + ".tls",
                      "TLS needs a certificate and key: set tls.certificate and tls.key");
      }
      for (size_t j = 0; j < i; ++j) {
        const Listener& other = *sites_[j].listener;
        if (site.listener->port != 0 && other.address == site.listener->address &&
            other.port == site.listener->port) {
          problems_.add(site.line, site.key + ".port",
                        fmt::format("{} port {} is already used by {}", other.address, other.port,
                                    sites_[j].key));
        }
      }
    }
  }

 private:
  void server(const toml::table& table) {
    TableReader r(problems_, table, "server");
    if (r.text("hostname", config_.server.hostname) && !is_host_name(config_.server.hostname)) {
      r.fail("hostname", "not a valid host name");
    }
    r.text("user", config_.server.user);
    log::Level level;
    if (r.text("log_level", config_.server.log_level) &&
        !log::parse_level(config_.server.log_level, level)) {
      r.fail("log_level", "must be one of debug, info, warning, error");
    }
    r.finish();
  }

  void store(const toml::table& table) {
    TableReader r(problems_, table, "store");
    std::string dir;
    if (r.text("data_dir", dir)) {
      if (dir.empty()) {
        r.fail("data_dir", "must not be empty");
      } else {
        config_.store.data_dir = dir;
      }
    }
    r.finish();
  }

  void tls(const toml::table& table) {
    TableReader r(problems_, table, "tls");
    r.path("certificate", config_.tls.certificate);
    r.path("key", config_.tls.key);
    if (config_.tls.certificate.empty() != config_.tls.key.empty()) {
      std::string_view given = config_.tls.key.empty() ? "certificate" : "key";
      std::string_view missing = config_.tls.key.empty() ? "tls.key" : "tls.certificate";
      r.fail(given, fmt::format("{} must be set as well", missing));
    }
    r.finish();
  }

  void auth(const toml::table& table) {
    TableReader r(problems_, table, "auth");
    Auth& a = config_.auth;
    r.duration("failure_delay_ms", a.failure_delay, 0);
    r.duration("max_failure_delay_ms", a.max_failure_delay, 0);
    r.duration("failure_window_seconds", a.failure_window, 1);
    r.number("global_failure_threshold", a.global_failure_threshold, 1, kMaxU32);
    r.duration("login_cache_seconds", a.login_cache, 0);
    if (a.max_failure_delay < a.failure_delay) {
      r.fail("max_failure_delay_ms", "must not be less than failure_delay_ms");
    }
    r.finish();
  }

  void connections(TableReader& parent, ConnectionLimits& limits) {
    const toml::table* table = parent.table("connections");
    if (!table) return;
    TableReader r(problems_, *table, parent.name("connections"));
    r.number("max_connections", limits.max_connections, 1, kMaxU32);
    r.number("max_connections_per_ip", limits.max_connections_per_ip, 1, kMaxU32);
    r.number("new_connections_per_ip_per_minute", limits.new_connections_per_ip_per_minute, 1,
             kMaxU32);
    r.number("max_output_buffer", limits.max_output_buffer, 1024, kMaxSize);
    r.number("max_input_buffer", limits.max_input_buffer, 1024, kMaxSize);
    r.number("min_data_rate", limits.min_data_rate, 1, kMaxU32);
    r.finish();
  }

  template <size_t N>
  void listeners(TableReader& parent, const Role (&roles)[N], std::vector<Listener>& out) {
    const toml::array* array = parent.array("listeners", "an array of tables ([[...]])");
    if (!array) return;
    out.reserve(array->size());  // sites_ points into `out`
    for (size_t i = 0; i < array->size(); ++i) {
      std::string key = fmt::format("{}[{}]", parent.name("listeners"), i);
      const toml::node& node = *array->get(i);
      if (!node.is_table()) {
        problems_.add(line_of(node), key, "expected a table");
        continue;
      }
      if (listener(*node.as_table(), key, roles, out.emplace_back())) {
        sites_.push_back({key, line_of(node), &out.back()});
      }
    }
  }

  template <size_t N>
  bool listener(const toml::table& table, const std::string& key, const Role (&roles)[N],
                Listener& out) {
    TableReader r(problems_, table, key);
    size_t problems_before = problems_.size();
    const Role* role = nullptr;
    if (!r.text("name", out.name)) {
      r.fail("name", "is required");
    } else {
      for (const Role& candidate : roles) {
        if (candidate.name == out.name) role = &candidate;
      }
      if (!role) {
        std::string names;
        for (const Role& candidate : roles) {
          names += names.empty() ? "" : ", ";
          names += candidate.name;
        }
        r.fail("name", fmt::format("must be one of {}", names));
      }
    }
    if (role) {
      out.port = role->port;
      out.tls = role->tls;
    }
    if (r.text("address", out.address) && !is_ip_address(out.address)) {
      r.fail("address", "not an IP address");
    }
    // Port 0 lets the system choose a free port, which the daemon logs (tests use it).
    r.number("port", out.port, 0, kMaxPort);
    std::string mode;
    if (r.text("tls", mode) && !parse_tls_mode(mode, out.tls)) {
      r.fail("tls", "must be one of none, starttls, implicit");
    }
    r.finish();
    return problems_.size() == problems_before;
  }

  void smtpd(const toml::table& table) {
    TableReader r(problems_, table, "smtpd");
    Smtpd& s = config_.smtpd;
    listeners(r, kSmtpRoles, s.listeners);
    connections(r, s.connections);
    r.number("max_message_size", s.max_message_size, 1024, kMaxSize);
    r.number("max_recipients", s.max_recipients, 1, kMaxU32);
    r.number("max_messages_per_connection", s.max_messages_per_connection, 1, kMaxU32);
    // RFC 5321 §4.5.3.1.6: a text line of 1000 octets must be accepted.
    r.number("max_line_length", s.max_line_length, 1000, kMaxSize);
    // RFC 5321 §4.5.3.2: the timeouts are minutes; shorter ones are the admin's choice.
    r.duration("command_timeout_seconds", s.command_timeout, 1);
    r.duration("data_timeout_seconds", s.data_timeout, 1);
    r.number("max_errors", s.max_errors, 1, kMaxU32);
    if (const toml::table* t = r.table("outbound")) outbound(*t);
    r.finish();
  }

  void outbound(const toml::table& table) {
    TableReader r(problems_, table, "smtpd.outbound");
    Outbound& o = config_.smtpd.outbound;
    if (r.text("smarthost", o.smarthost) && !o.smarthost.empty()) {
      auto hp = parse_host_port(o.smarthost, 25);
      if (!hp) r.fail("smarthost", hp.error().message);
    }
    net::TlsMode mode;
    if (r.text("smarthost_tls", o.smarthost_tls) && !parse_tls_mode(o.smarthost_tls, mode)) {
      r.fail("smarthost_tls", "must be one of none, starttls, implicit");
    }
    r.text("smarthost_user", o.smarthost_user);
    r.path("smarthost_password_file", o.smarthost_password_file);
    if (!o.smarthost_user.empty() && o.smarthost_password_file.empty()) {
      r.fail("smarthost_user", "needs smarthost_password_file as well");
    }
    r.number("mx_port", o.mx_port, 1, kMaxPort);
    if (r.text("resolver", o.resolver) && !o.resolver.empty()) {
      auto hp = parse_host_port(o.resolver, 53);
      if (!hp) {
        r.fail("resolver", hp.error().message);
      } else if (!is_ip_address(hp->host)) {
        r.fail("resolver", "must be an IP address, optionally with a port");
      }
    }
    r.flag("verify_certificates", o.verify_certificates);
    retry_delays(r, o.retry_delays);
    r.duration("give_up_after_seconds", o.give_up_after, 1);
    r.duration("warn_after_seconds", o.warn_after, 1);
    r.number("max_concurrent_deliveries", o.max_concurrent_deliveries, 1, kMaxU32);
    r.number("max_per_destination", o.max_per_destination, 1, kMaxU32);
    r.duration("connect_timeout_seconds", o.connect_timeout, 1);
    r.duration("reply_timeout_seconds", o.reply_timeout, 1);
    r.duration("data_start_timeout_seconds", o.data_start_timeout, 1);
    r.duration("data_block_timeout_seconds", o.data_block_timeout, 1);
    r.duration("data_end_timeout_seconds", o.data_end_timeout, 1);
    r.number("full_return_limit", o.full_return_limit, 0, kMaxSize);
    r.number("default_return_limit", o.default_return_limit, 0, kMaxSize);
    r.finish();
  }

  void retry_delays(TableReader& r, std::vector<std::chrono::seconds>& out) {
    const toml::array* array = r.array("retry_delays_seconds", "an array of integers");
    if (!array) return;
    if (array->empty()) {
      r.fail("retry_delays_seconds", "must not be empty");
      return;
    }
    std::vector<std::chrono::seconds> delays;
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::node& node = *array->get(i);
      if (!node.is_integer() || node.as_integer()->get() < 1 ||
          node.as_integer()->get() > kMaxU32) {
        problems_.add(line_of(node), fmt::format("{}[{}]", r.name("retry_delays_seconds"), i),
                      fmt::format("expected an integer between 1 and {}", kMaxU32));
        return;
      }
      delays.emplace_back(node.as_integer()->get());
    }
    out = std::move(delays);
  }

  void pop3d(const toml::table& table) {
    TableReader r(problems_, table, "pop3d");
    Pop3d& p = config_.pop3d;
    listeners(r, kPop3Roles, p.listeners);
    connections(r, p.connections);
    // RFC 2449 §4: commands up to 255 octets must be accepted.
    r.number("max_line_length", p.max_line_length, 255, kMaxSize);
    r.duration("idle_timeout_seconds", p.idle_timeout, 1);
    r.finish();
  }

  void imapd(const toml::table& table) {
    TableReader r(problems_, table, "imapd");
    Imapd& i = config_.imapd;
    listeners(r, kImapRoles, i.listeners);
    connections(r, i.connections);
    // RFC 7162 §4: a client may send command lines of 8192 octets.
    r.number("max_command_length", i.max_command_length, 8192, kMaxSize);
    r.number("max_literal_size", i.max_literal_size, 1024, kMaxSize);
    r.number("message_cache_size", i.message_cache_size, 0, kMaxSize);
    r.duration("idle_timeout_seconds", i.idle_timeout, 1);
    r.finish();
  }

  Problems problems_;
  Config& config_;
  std::vector<ListenerSite> sites_;
};

void resolve_relative(fs::path& p, const fs::path& base) {
  if (!p.empty() && p.is_relative() && !base.empty()) p = base / p;
}

}  // namespace

Result<HostPort> parse_host_port(std::string_view text, uint16_t default_port) {
  HostPort out;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return fail(Errc::kInvalidArgument, "missing ']'");
    out.host = std::string(text.substr(1, close - 1));
    rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      return fail(Errc::kInvalidArgument, "expected ':' after ']'");
    }
  } else {
    size_t colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
      return fail(Errc::kInvalidArgument, "an IPv6 address needs brackets: [addr]:port");
    }
    out.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) rest = text.substr(colon);
  }
  if (out.host.empty()) return fail(Errc::kInvalidArgument, "the host is missing");
  if (rest.empty()) {
    out.port = default_port;
  } else {
    std::string_view digits = rest.substr(1);
    uint32_t port = 0;
    if (digits.empty() || digits.size() > 5) return fail(Errc::kInvalidArgument, "bad port");
    for (char c : digits) {
      if (c < '0' || c > '9') return fail(Errc::kInvalidArgument, "bad port");
      port = port * 10 + static_cast<uint32_t>(c - '0');
    }
    if (port > kMaxPort) return fail(Errc::kInvalidArgument, "bad port");
    out.port = static_cast<uint16_t>(port);
  }
  if (out.port == 0) return fail(Errc::kInvalidArgument, "the port is missing or 0");
  return out;
}

Result<Config> parse(std::string_view text, const fs::path& path) {
  Config config;
  config.path = path;
  config.server.hostname = default_hostname();
  toml::table table;
  try {
    table = toml::parse(text, path.string());
  } catch (const toml::parse_error& e) {
    return fail(Errc::kInvalidArgument,
                fmt::format("{}:{}: {}", path.string(), e.source().begin.line, e.description()));
  }
  Loader loader(path, config);
  loader.root(table);
  if (loader.problems().empty()) loader.cross_checks();
  if (!loader.problems().empty()) return Unexpected{loader.problems().error()};

  fs::path base = path.parent_path();
  resolve_relative(config.store.data_dir, base);
  resolve_relative(config.tls.certificate, base);
  resolve_relative(config.tls.key, base);
  resolve_relative(config.smtpd.outbound.smarthost_password_file, base);
  return config;
}

Result<Config> load(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    return fail(err == ENOENT ? Errc::kNotFound : Errc::kIo,
                fmt::format("{}: cannot read: {}", path.string(), std::strerror(err)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return fail(Errc::kIo, fmt::format("{}: cannot read", path.string()));
  return parse(text.str(), path);
}

}  // namespace chapar::config
