// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/daemon.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>

#include "common/net/server.hpp"
#include "common/tls/context.hpp"

namespace chapar {
namespace {

constexpr auto kShutdownGrace = std::chrono::milliseconds(4000);
constexpr auto kShutdownDeadline = std::chrono::milliseconds(5000);

std::string_view tls_mode_name(net::TlsMode mode) {
  switch (mode) {
    case net::TlsMode::kNone:
      return "none";
    case net::TlsMode::kStartTls:
      return "starttls";
    case net::TlsMode::kImplicit:
      return "implicit";
  }
  return "none";
}

struct Flags {
  std::string config = kDefaultConfigPath;
  bool help = false;
  bool version = false;
};

Result<Flags> parse_flags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      flags.help = true;
    } else if (arg == "--version" || arg == "-V") {
      flags.version = true;
    } else if (arg == "--config" || arg == "-c") {
      if (i + 1 >= argc) return fail(Errc::kInvalidArgument, "--config needs a file");
      flags.config = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      flags.config = std::string(arg.substr(9));
    } else {
      return fail(Errc::kInvalidArgument, "unknown argument: " + std::string(arg));
    }
  }
  return flags;
}

// One daemon run: the loop, the server, the signal handles. Lives on main()'s stack.
class Daemon {
 public:
  Daemon(const DaemonSpec& spec, const config::Config& config) : spec_(spec), config_(config) {}

  int run();

 private:
  static void on_signal(uv_signal_t* handle, int signum);
  static void on_deadline(uv_timer_t* timer);
  void begin_shutdown(std::string_view why);
  void reload();
  void close_own_handles();
  int fail_start(int status);

  const DaemonSpec& spec_;
  const config::Config& config_;
  log::Logger logger_;
  uv_loop_t loop_{};
  std::optional<tls::Context> tls_;
  std::unique_ptr<net::Server> server_;
  std::optional<DaemonContext> context_;
  uv_signal_t sigterm_{};
  uv_signal_t sigint_{};
  uv_signal_t sighup_{};
  uv_timer_t deadline_{};
  bool handles_open_ = false;
  bool stopping_ = false;
};

int Daemon::run() {
  const std::vector<config::Listener>& listeners = spec_.listeners(config_);
  if (listeners.empty()) {
    std::fprintf(stderr, "%s: %s: no listeners configured\n", spec_.name.c_str(),
                 config_.path.c_str());
    return config::kExitConfig;
  }
  bool needs_tls = false;
  for (const config::Listener& listener : listeners) {
    needs_tls = needs_tls || listener.tls != net::TlsMode::kNone;
  }
  if (!config_.tls.certificate.empty()) {
    auto context = tls::Context::server(config_.tls.certificate, config_.tls.key);
    if (!context) {
      std::fprintf(stderr, "%s: %s\n", spec_.name.c_str(), context.error().message.c_str());
      return config::kExitConfig;
    }
    tls_ = std::move(*context);
  } else if (needs_tls) {
    std::fprintf(stderr, "%s: %s: a listener uses TLS but tls.certificate is not set\n",
                 spec_.name.c_str(), config_.path.c_str());
    return config::kExitConfig;
  }

  if (int rc = uv_loop_init(&loop_); rc != 0) {
    logger_.error("startup_failed", {{"error", uv_strerror(rc)}});
    return 1;
  }
  uv_signal_init(&loop_, &sigterm_);
  uv_signal_init(&loop_, &sigint_);
  uv_signal_init(&loop_, &sighup_);
  uv_timer_init(&loop_, &deadline_);
  sigterm_.data = sigint_.data = sighup_.data = deadline_.data = this;
  handles_open_ = true;

  net::ServerOptions options;
  options.limits = spec_.limits(config_);
  options.tls = tls_ ? &*tls_ : nullptr;
  options.shutdown_grace = kShutdownGrace;
  server_ = std::make_unique<net::Server>(&loop_, options, logger_);
  if (Status bound = server_->listen(listeners); !bound) {
    logger_.error("listen_failed", {{"error", bound.error().message}});
    return fail_start(1);
  }
  for (const config::Listener& listener : server_->listeners()) {
    logger_.info("listening", {{"name", listener.name},
                               {"address", listener.address},
                               {"port", listener.port},
                               {"tls", tls_mode_name(listener.tls)}});
  }

  if (::geteuid() == 0) {
    if (config_.server.user.empty()) {
      logger_.warning("running_as_root", {{"hint", "set server.user"}});
    } else if (Status dropped = drop_privileges(config_.server.user); !dropped) {
      logger_.error("privilege_drop_failed",
                    {{"user", config_.server.user}, {"error", dropped.error().message}});
      return fail_start(1);
    }
  }

  context_.emplace(DaemonContext{&loop_, config_, logger_, options.tls, {}});
  auto factory = spec_.setup(*context_);
  if (!factory) {
    logger_.error("startup_failed", {{"error", factory.error().message}});
    return fail_start(1);
  }
  server_->start(std::move(*factory));

  uv_signal_start(&sigterm_, &Daemon::on_signal, SIGTERM);
  uv_signal_start(&sigint_, &Daemon::on_signal, SIGINT);
  uv_signal_start(&sighup_, &Daemon::on_signal, SIGHUP);
  logger_.info("started", {{"daemon", spec_.name}, {"version", kChaparVersion}});

  uv_run(&loop_, UV_RUN_DEFAULT);

  // Whatever the sessions' factory holds (the store, queue runners) goes with the server.
  server_.reset();
  context_.reset();
  if (uv_loop_close(&loop_) != 0) logger_.warning("loop_not_empty");
  logger_.info("exit", {{"daemon", spec_.name}});
  return 0;
}

int Daemon::fail_start(int status) {
  if (context_) {
    for (auto& hook : context_->shutdown_hooks) hook();
  }
  server_.reset();  // closes listeners, running the loop until they are gone
  close_own_handles();
  // Let close callbacks run; whatever a failed setup left open is not waited for.
  uv_run(&loop_, UV_RUN_NOWAIT);
  uv_run(&loop_, UV_RUN_NOWAIT);
  context_.reset();
  uv_loop_close(&loop_);
  return status;
}

void Daemon::close_own_handles() {
  if (!handles_open_) return;
  handles_open_ = false;
  for (uv_handle_t* handle :
       {reinterpret_cast<uv_handle_t*>(&sigterm_), reinterpret_cast<uv_handle_t*>(&sigint_),
        reinterpret_cast<uv_handle_t*>(&sighup_), reinterpret_cast<uv_handle_t*>(&deadline_)}) {
    uv_close(handle, nullptr);
  }
}

void Daemon::on_signal(uv_signal_t* handle, int signum) {
  auto* self = static_cast<Daemon*>(handle->data);
  if (signum == SIGHUP) {
    self->reload();
  } else {
    self->begin_shutdown(signum == SIGTERM ? "SIGTERM" : "SIGINT");
  }
}

void Daemon::reload() {
  if (!tls_) {
    logger_.info("reload", {{"tls", "none configured"}});
    return;
  }
  if (Status reloaded = tls_->reload(); !reloaded) {
    // After dropping root the key must be readable by server.user for this to work.
    logger_.error("tls_reload_failed", {{"error", reloaded.error().message}});
    return;
  }
  logger_.info("tls_reloaded", {{"certificate", config_.tls.certificate.string()}});
}

void Daemon::begin_shutdown(std::string_view why) {
  if (stopping_) {
    // A second signal: the operator does not want to wait.
    logger_.warning("stopped_forcibly", {{"signal", why}});
    std::_Exit(1);
  }
  stopping_ = true;
  logger_.info("stopping", {{"signal", why}});
  // A last resort for what refuses to end: the process is gone 5 s after the signal.
  uv_timer_start(&deadline_, &Daemon::on_deadline, static_cast<uint64_t>(kShutdownDeadline.count()),
                 0);
  uv_unref(reinterpret_cast<uv_handle_t*>(&deadline_));
  for (auto& hook : context_->shutdown_hooks) hook();
  server_->shutdown([this] { close_own_handles(); });
}

void Daemon::on_deadline(uv_timer_t* timer) {
  auto* self = static_cast<Daemon*>(timer->data);
  self->logger_.error("shutdown_timeout", {{"daemon", self->spec_.name}});
  std::_Exit(1);
}

}  // namespace

Status drop_privileges(const std::string& user) {
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(size > 0 ? static_cast<size_t>(size) : 16384);
  passwd entry{};
  passwd* found = nullptr;
  int rc = ::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (found == nullptr) {
    return fail(Errc::kNotFound, rc != 0 ? std::string("cannot look up user: ") + std::strerror(rc)
                                         : "no such user: " + user);
  }
  if (::initgroups(user.c_str(), entry.pw_gid) != 0 || ::setgid(entry.pw_gid) != 0 ||
      ::setuid(entry.pw_uid) != 0) {
    return fail(Errc::kPermissionDenied,
                std::string("cannot switch user: ") + std::strerror(errno));
  }
  if (entry.pw_uid != 0 && ::setuid(0) == 0) {
    return fail(Errc::kPermissionDenied, "root could be regained after switching user");
  }
  return {};
}

int run_daemon(int argc, char** argv, const DaemonSpec& spec) {
  auto flags = parse_flags(argc, argv);
  if (!flags) {
    std::fprintf(stderr, "%s: %s (try --help)\n", spec.name.c_str(), flags.error().message.c_str());
    return kExitUsage;
  }
  if (flags->help) {
    std::printf(
        "usage: %s [--config FILE]\n"
        "  --config FILE  configuration file (default %s)\n"
        "  --version      print the version and exit\n"
        "Runs in the foreground and logs to stderr. SIGTERM stops it gracefully,\n"
        "SIGHUP reloads the TLS certificate.\n",
        spec.name.c_str(), kDefaultConfigPath);
    return 0;
  }
  if (flags->version) {
    std::printf("%s %.*s\n", spec.name.c_str(), static_cast<int>(kChaparVersion.size()),
                kChaparVersion.data());
    return 0;
  }
  std::signal(SIGPIPE, SIG_IGN);
  auto config = config::load(flags->config);
  if (!config) {
    std::fprintf(stderr, "%s: %s\n", spec.name.c_str(), config.error().message.c_str());
    return config::kExitConfig;
  }
  log::Level level = log::Level::kInfo;
  if (log::parse_level(config->server.log_level, level)) log::set_level(level);
  Daemon daemon(spec, *config);
  return daemon.run();
}

}  // namespace chapar
