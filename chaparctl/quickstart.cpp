// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/quickstart.hpp"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "chaparctl/address.hpp"
#include "chaparctl/check_privileges.hpp"
#include "chaparctl/quickstart_config.hpp"
#include "chaparctl/quickstart_dkim.hpp"
#include "chaparctl/quickstart_dns.hpp"
#include "common/auth/password.hpp"
#include "common/text/token.hpp"
#include "libmailstore/store.hpp"

namespace chapar::ctl {
namespace {

namespace fs = std::filesystem;

// 24 characters of [a-z2-7]: 120 bits, easy to type from a terminal into a mail client.
constexpr size_t kPasswordLength = 24;
constexpr std::string_view kPostmaster = "postmaster";

Result<std::string> read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::kIo, fmt::format("cannot read {}", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Sets server.hostname in the file and in the loaded configuration.
Status point_config_at(Context& ctx, const std::string& hostname) {
  config::Config& config = *ctx.config;
  if (config.server.hostname == hostname) return {};
  auto text = read_text(config.path);
  if (!text) return Unexpected{text.error()};
  auto changed = retarget_config(*text, hostname, config.path);
  if (!changed) return Unexpected{changed.error()};
  if (Status written = replace_file(config.path, *changed); !written) {
    return fail(written.error().code,
                fmt::format("{} (set server.hostname = \"{}\" by hand, or run as root)",
                            written.error().message, hostname));
  }
  auto reloaded = config::parse(*changed, config.path);
  if (!reloaded) return Unexpected{reloaded.error()};
  config = std::move(*reloaded);
  ctx.io.out << fmt::format("set server.hostname = \"{}\" in {}\n", hostname, config.path.string());
  return {};
}

Status add_postmaster(Context& ctx, store::Store& store, const std::string& domain) {
  const std::string address = fmt::format("{}@{}", kPostmaster, domain);
  auto existing = store.find_account(address);
  if (existing) {
    ctx.io.out << fmt::format("account {} exists; its password is unchanged\n", address);
    return {};
  }
  if (existing.error().code != Errc::kNotFound) return Unexpected{existing.error()};
  const std::string password = text::random_token(kPasswordLength);
  auto hash = auth::hash_password(password);
  if (!hash) return Unexpected{hash.error()};
  auto added = store.add_account_sync(address, *hash);
  if (!added) return Unexpected{added.error()};
  ctx.io.out << fmt::format("added the account {}\n", address);
  ctx.io.out << fmt::format("password of {} (shown only now): {}\n", address, password);
  return {};
}

}  // namespace

Status cmd_quickstart(Context& ctx) {
  auto domain = normalize_domain(*ctx.option("domain"));
  if (!domain)
    return fail(domain.error().code, fmt::format("--domain: {}", domain.error().message));
  std::string hostname = ctx.config->server.hostname;
  if (auto given = ctx.option("hostname")) {
    auto name = normalize_domain(*given);
    if (!name) return fail(name.error().code, fmt::format("--hostname: {}", name.error().message));
    hostname = std::move(*name);
  }
  if (hostname.empty()) {
    return fail(Errc::kInvalidArgument, "give the mail server's name with --hostname");
  }

  if (Status ok = point_config_at(ctx, hostname); !ok) return ok;
  const config::Config& config = *ctx.config;
  if (auto user = become_server_user(config); !user) {
    return fail(user.error().code,
                fmt::format("{} (install the chapar-common package, or set server.user)",
                            user.error().message));
  }

  const fs::path& data_dir = config.store.data_dir;
  std::error_code ec;
  const bool existed = fs::exists(data_dir / store::Store::kDatabaseName, ec);
  auto opened = store::Store::open({.data_dir = data_dir, .create = true});
  if (!opened) {
    return fail(opened.error().code, fmt::format("cannot open the store in {}: {}",
                                                 data_dir.string(), opened.error().message));
  }
  store::Store& store = **opened;
  if (!existed) ctx.io.out << fmt::format("created the store in {}\n", data_dir.string());

  auto added = store.add_domain_sync(*domain);
  if (!added && added.error().code != Errc::kAlreadyExists) return Unexpected{added.error()};
  ctx.io.out << (added ? "added the domain " : "kept the domain ") << *domain << '\n';
  if (Status ok = add_postmaster(ctx, store, *domain); !ok) return ok;

  DkimOutcome dkim = ensure_dkim_keys(config.path, data_dir, *domain);
  if (!dkim.keys.empty()) ctx.io.out << dkim.note << '\n';

  ZonePlan plan{*domain, hostname, srv_services(config), std::move(dkim.keys), dkim.note};
  ctx.io.out << '\n' << render_zone(plan) << '\n';
  ctx.io.out << fmt::format(
      "next: a certificate for {} (certbot certonly --standalone -d {} --deploy-hook "
      "/usr/lib/chapar/certbot-deploy-hook), then 'chaparctl check', then "
      "'systemctl start chapar.target'\n",
      hostname, hostname);
  return {};
}

}  // namespace chapar::ctl
