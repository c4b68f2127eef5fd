// SPDX-License-Identifier: AGPL-3.0-or-later
// chaparctl init: the embedded default in one directory — configuration, certificate, store.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "chaparctl/address.hpp"
#include "chaparctl/handlers.hpp"
#include "chaparctl/initial_config.hpp"
#include "common/tls/self_signed.hpp"
#include "libmailstore/store.hpp"

namespace chapar::ctl {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kConfigName = "chapar.toml";

Result<std::string> local_hostname() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name) != 0) {
    return fail(Errc::kIo, fmt::format("cannot read the host name: {}", std::strerror(errno)));
  }
  return std::string(name);
}

// Creates `path` with `text`; fails if it exists (O_EXCL), so that two runs never clobber
// each other's file.
Status write_new_file(const fs::path& path, std::string_view text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) {
      return fail(Errc::kAlreadyExists,
                  fmt::format("{} exists; not overwriting it", path.string()));
    }
    return fail(Errc::kIo,
                fmt::format("cannot create {}: {}", path.string(), std::strerror(errno)));
  }
  size_t written = 0;
  int error = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = errno;
      break;
    }
    written += static_cast<size_t>(n);
  }
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  ::close(fd);
  if (error != 0) {
    ::unlink(path.c_str());
    return fail(Errc::kIo, fmt::format("cannot write {}: {}", path.string(), std::strerror(error)));
  }
  return {};
}

// A certificate and key left by an earlier, interrupted init are kept; a lone one of the two
// is a mistake the administrator has to sort out.
Status ensure_certificate(const fs::path& cert, const fs::path& key, std::string_view hostname,
                          bool& generated) {
  std::error_code ec;
  bool have_cert = fs::exists(cert, ec);
  bool have_key = fs::exists(key, ec);
  generated = false;
  if (have_cert && have_key) return {};
  if (have_cert || have_key) {
    return fail(Errc::kAlreadyExists,
                fmt::format("{} exists without {}; remove it or supply both",
                            (have_cert ? cert : key).string(), (have_cert ? key : cert).string()));
  }
  fs::create_directories(cert.parent_path(), ec);
  if (ec) {
    return fail(Errc::kIo,
                fmt::format("cannot create {}: {}", cert.parent_path().string(), ec.message()));
  }
  fs::permissions(cert.parent_path(), fs::perms::owner_all, ec);
  generated = true;
  return tls::generate_self_signed(hostname, cert, key);
}

}  // namespace

Status cmd_init(Context& ctx) {
  std::error_code ec;
  fs::path dir = fs::absolute(fs::path(std::string(*ctx.option("dir"))), ec).lexically_normal();
  if (ec || dir.empty()) return fail(Errc::kInvalidArgument, "--dir: not a usable path");
  if (dir.has_filename() == false && dir.has_parent_path()) dir = dir.parent_path();

  std::string hostname;
  if (auto given = ctx.option("hostname")) {
    auto name = normalize_domain(*given);
    if (!name) return fail(name.error().code, fmt::format("--hostname: {}", name.error().message));
    hostname = std::move(*name);
  } else {
    auto name = local_hostname();
    if (!name) return fail(name.error().code, name.error().message);
    hostname = std::move(*name);
  }
  std::optional<std::string> domain;
  if (auto given = ctx.option("domain")) {
    auto name = normalize_domain(*given);
    if (!name) return fail(name.error().code, fmt::format("--domain: {}", name.error().message));
    domain = std::move(*name);
  }
  InitialConfig settings;
  settings.hostname = hostname;
  if (auto given = ctx.option("port-base")) {
    auto base = parse_number(*given, 0, max_port_base());
    if (!base) return fail(base.error().code, fmt::format("--port-base: {}", base.error().message));
    settings.port_base = static_cast<uint16_t>(*base);
  }

  const fs::path config_path = dir / kConfigName;
  if (fs::exists(config_path, ec)) {
    return fail(Errc::kAlreadyExists,
                fmt::format("{} exists; not overwriting it", config_path.string()));
  }
  fs::create_directories(dir, ec);
  if (ec) return fail(Errc::kIo, fmt::format("cannot create {}: {}", dir.string(), ec.message()));

  settings.certificate = dir / "tls" / "cert.pem";
  settings.key = dir / "tls" / "key.pem";
  settings.data_dir = dir / "data";
  bool generated = false;
  if (Status ok = ensure_certificate(settings.certificate, settings.key, hostname, generated);
      !ok) {
    return ok;
  }

  auto store = store::Store::open({.data_dir = settings.data_dir, .create = true});
  if (!store) {
    return fail(store.error().code, fmt::format("cannot create the store in {}: {}",
                                                settings.data_dir.string(), store.error().message));
  }
  if (domain) {
    auto added = (*store)->add_domain_sync(*domain);
    if (!added && added.error().code != Errc::kAlreadyExists) {
      return fail(added.error().code, added.error().message);
    }
  }
  // The configuration is written last: its presence means the rest is in place.
  if (Status ok = write_new_file(config_path, render_config(settings), 0640); !ok) return ok;

  std::ostream& out = ctx.io.out;
  out << "wrote " << config_path.string() << '\n';
  out << (generated ? "created " : "kept ") << settings.certificate.string() << " and "
      << settings.key.string() << (generated ? " (self-signed for " + hostname + ")" : "") << '\n';
  out << "store in " << settings.data_dir.string() << '\n';
  if (domain) out << "domain " << *domain << '\n';
  for (const PlannedListener& l : planned_listeners()) {
    out << fmt::format("{:<12} {}:{} ({})\n", l.name, settings.address,
                       settings.port_base + l.offset, l.tls);
  }
  out << fmt::format("next: chaparctl --config {} user add USER@{}\n", config_path.string(),
                     domain.value_or("DOMAIN"));
  return {};
}

}  // namespace chapar::ctl
