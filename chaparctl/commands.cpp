// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/commands.hpp"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include <fmt/format.h>

#include "chaparctl/check.hpp"
#include "chaparctl/check_privileges.hpp"
#include "chaparctl/dkim.hpp"
#include "chaparctl/exit_codes.hpp"
#include "chaparctl/handlers.hpp"
#include "chaparctl/queue.hpp"
#include "chaparctl/quickstart.hpp"

namespace chapar::ctl {
namespace {

constexpr std::string_view kDefaultConfigPath = "/etc/chapar/chapar.toml";

// clang-format off
constexpr Command kCommands[] = {
  {"init", "", "", 0, 0, "dir domain hostname port-base", "dir", Needs::kNothing, cmd_init,
   "write DIR/chapar.toml, a self-signed certificate and an empty store"},
  {"domain", "add", "DOMAIN", 1, 1, "", "", Needs::kStore, cmd_domain_add, "host mail for DOMAIN"},
  {"domain", "list", "", 0, 0, "", "", Needs::kStore, cmd_domain_list, "list the hosted domains"},
  {"domain", "remove", "DOMAIN", 1, 1, "", "", Needs::kStore, cmd_domain_remove,
   "stop hosting DOMAIN (it must have no accounts left)"},
  {"user", "add", "ADDRESS", 1, 1, "password-stdin quota", "", Needs::kStore, cmd_user_add,
   "create an account with its standard mailboxes"},
  {"user", "passwd", "ADDRESS", 1, 1, "password-stdin", "", Needs::kStore, cmd_user_passwd,
   "set an account's password"},
  {"user", "quota", "ADDRESS BYTES", 2, 2, "", "", Needs::kStore, cmd_user_quota,
   "set an account's quota (0: unlimited)"},
  {"user", "list", "[DOMAIN]", 0, 1, "", "", Needs::kStore, cmd_user_list, "list accounts"},
  {"user", "remove", "ADDRESS", 1, 1, "", "", Needs::kStore, cmd_user_remove,
   "delete an account and all its mail"},
  {"user", "show", "ADDRESS", 1, 1, "", "", Needs::kStore, cmd_user_show,
   "show an account's quota, usage and mailboxes"},
  {"user", "disable", "ADDRESS", 1, 1, "", "", Needs::kStore, cmd_user_disable,
   "refuse logins and mail for an account, keeping its mail"},
  {"user", "enable", "ADDRESS", 1, 1, "", "", Needs::kStore, cmd_user_enable,
   "undo 'user disable'"},
  {"alias", "add", "SOURCE TARGET", 2, 2, "", "", Needs::kStore, cmd_alias_add,
   "deliver mail for SOURCE (an address, or @DOMAIN for all others) to the account TARGET"},
  {"alias", "list", "[DOMAIN]", 0, 1, "", "", Needs::kStore, cmd_alias_list, "list aliases"},
  {"alias", "remove", "SOURCE", 1, 1, "", "", Needs::kStore, cmd_alias_remove, "delete an alias"},
  {"mailbox", "list", "ADDRESS", 1, 1, "", "", Needs::kStore, cmd_mailbox_list,
   "list an account's mailboxes with their message counts"},
  {"queue", "list", "", 0, 0, "", "", Needs::kStore, cmd_queue_list, "list the outbound queue"},
  {"queue", "show", "ID", 1, 1, "", "", Needs::kStore, cmd_queue_show,
   "show a queue entry with each recipient's state and last error"},
  {"queue", "retry", "ID|all", 1, 1, "", "", Needs::kStore, cmd_queue_retry,
   "try a queue entry (or every one) again now"},
  {"queue", "delete", "ID", 1, 1, "", "", Needs::kStore, cmd_queue_delete,
   "remove a queue entry without delivering or reporting it"},
  {"dkim", "generate", "", 0, 0, "domain selector algorithm", "domain", Needs::kStore,
   cmd_dkim_generate, "make a DKIM key for DOMAIN (rsa or ed25519) and print its DNS record"},
  {"stats", "", "", 0, 0, "", "", Needs::kStore, cmd_stats, "count domains, accounts, messages, queue"},
  {"quickstart", "", "", 0, 0, "domain hostname", "domain", Needs::kConfig, cmd_quickstart,
   "set up mail for DOMAIN on this host and print the DNS records to publish"},
  {"check", "", "", 0, 0, "", "", Needs::kConfig, cmd_check,
   "check the configuration, certificate, store and ports"},
};
// clang-format on

struct Failure {
  int exit_code;
  std::string message;
};

// Error lines are one line: control characters from input or from lower layers are replaced.
std::string one_line(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? ' ' : c);
  }
  return out;
}

// The first line of a message that may list several problems, saying how many were left out.
std::string first_line_of(std::string_view message) {
  size_t newline = message.find('\n');
  if (newline == std::string_view::npos || newline + 1 == message.size()) {
    return std::string(message.substr(0, newline));
  }
  size_t more = 0;
  for (size_t i = newline; i != std::string_view::npos; i = message.find('\n', i + 1)) {
    if (i + 1 < message.size()) ++more;
  }
  return fmt::format("{} (and {} more)", message.substr(0, newline), more);
}

std::string command_name(const Command& command) {
  return command.verb.empty() ? std::string(command.group)
                              : fmt::format("{} {}", command.group, command.verb);
}

// Calls fn(name) for each name in a space-separated list.
template <typename Fn>
void for_each_name(std::string_view names, Fn fn) {
  while (!names.empty()) {
    size_t space = names.find(' ');
    fn(names.substr(0, space));
    names = space == std::string_view::npos ? std::string_view() : names.substr(space + 1);
  }
}

bool contains_name(std::string_view names, std::string_view name) {
  bool found = false;
  for_each_name(names, [&](std::string_view n) { found = found || n == name; });
  return found;
}

std::string command_usage(const Command& command) {
  std::string text = "chaparctl";
  if (command.needs != Needs::kNothing) text += " [--config FILE]";
  text += " " + command_name(command);
  if (!command.operands.empty()) text += fmt::format(" {}", command.operands);
  for_each_name(command.options, [&](std::string_view name) {
    const OptionSpec* spec = find_option(name);
    std::string option = fmt::format("--{}", name);
    if (spec != nullptr && spec->takes_value) option += fmt::format(" {}", spec->value_name);
    text += contains_name(command.required, name) ? fmt::format(" {}", option)
                                                  : fmt::format(" [{}]", option);
  });
  return text;
}

bool accepts_option(const Command& command, std::string_view name) {
  if (name == "help") return true;
  if (name == "config") return command.needs != Needs::kNothing;
  return contains_name(command.options, name);
}

std::string verbs_of(std::string_view group) {
  std::string list;
  for (const Command& command : kCommands) {
    if (command.group != group) continue;
    if (!list.empty()) list += ", ";
    list += command.verb;
  }
  return list;
}

// Finds the command named by the leading words; the rest are its operands.
Result<const Command*> find_command(const std::vector<std::string>& words, size_t& consumed) {
  const std::string& group = words.front();
  bool group_known = false;
  for (const Command& command : kCommands) {
    if (command.group != group) continue;
    group_known = true;
    if (command.verb.empty()) {
      consumed = 1;
      return &command;
    }
    if (words.size() > 1 && command.verb == words[1]) {
      consumed = 2;
      return &command;
    }
  }
  if (!group_known) {
    return fail(Errc::kInvalidArgument,
                fmt::format("unknown command '{}' (see 'chaparctl --help')", group));
  }
  if (words.size() < 2) {
    return fail(Errc::kInvalidArgument,
                fmt::format("'{}' needs a subcommand: {}", group, verbs_of(group)));
  }
  return fail(Errc::kInvalidArgument, fmt::format("unknown command '{} {}' (expected one of: {})",
                                                  group, words[1], verbs_of(group)));
}

std::optional<Failure> prepare(const Command& command, Context& ctx) {
  if (command.needs == Needs::kNothing) return std::nullopt;
  auto given = ctx.option("config");
  const std::string path = given ? std::string(*given) : default_config_path();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Failure{kExitConfig,
                   fmt::format("{}: configuration file not found (give --config FILE, set "
                               "CHAPAR_CONFIG, or create one with 'chaparctl init')",
                               path)};
  }
  auto config = config::load(path);
  if (!config) return Failure{kExitConfig, first_line_of(config.error().message)};
  ctx.config = std::move(*config);
  if (command.needs == Needs::kConfig) return std::nullopt;

  // Run as root, the store is opened as server.user, as the daemons open it: files SQLite
  // creates next to the database (its WAL and shared-memory index) must stay theirs.
  if (auto user = become_server_user(*ctx.config); !user) {
    return Failure{exit_code_for(user.error().code), user.error().message};
  }
  const auto& data_dir = ctx.config->store.data_dir;
  auto store = store::Store::open({.data_dir = data_dir, .create = false});
  if (!store && store.error().code == Errc::kNotFound) {
    return Failure{kExitConfig,
                   fmt::format("{}: store.data_dir: no store in {}", path, data_dir.string())};
  }
  if (!store) return Failure{exit_code_for(store.error().code), store.error().message};
  ctx.store = std::move(*store);
  return std::nullopt;
}

int report(Io& io, int exit_code, std::string_view message) {
  io.err << "chaparctl: " << one_line(message) << '\n';
  io.err.flush();
  return exit_code;
}

}  // namespace

std::span<const Command> commands() {
  return kCommands;
}

const std::string& Context::operand(size_t n) const {
  static const std::string kEmpty;
  return n < operands.size() ? operands[n] : kEmpty;
}

std::string default_config_path() {
  const char* env = std::getenv("CHAPAR_CONFIG");
  if (env != nullptr && *env != '\0') return env;
  return std::string(kDefaultConfigPath);
}

std::string usage() {
  std::string text =
      "usage: chaparctl [--config FILE] COMMAND [ARGUMENTS]\n"
      "\n"
      "The configuration is read from --config FILE, else $CHAPAR_CONFIG, else " +
      std::string(kDefaultConfigPath) + ".\n\ncommands:\n";
  for (const Command& command : kCommands) {
    text += fmt::format("  {}\n      {}\n", command_usage(command), command.summary);
  }
  text +=
      "\nPasswords are read from the terminal without echo, or with --password-stdin as the\n"
      "first line of standard input.\n";
  return text;
}

int run(std::span<const std::string> argv, Io& io) {
  auto arguments = parse_arguments(argv);
  if (!arguments) return report(io, kExitUsage, arguments.error().message);
  const Arguments& args = *arguments;
  if (args.has("help") || (!args.words.empty() && args.words.front() == "help")) {
    io.out << usage();
    return kExitOk;
  }
  if (args.words.empty()) {
    return report(io, kExitUsage, "missing command (see 'chaparctl --help')");
  }
  size_t consumed = 0;
  auto found = find_command(args.words, consumed);
  if (!found) return report(io, kExitUsage, found.error().message);
  const Command& command = **found;

  Context ctx{args,
              {args.words.begin() + static_cast<std::ptrdiff_t>(consumed), args.words.end()},
              io,
              std::nullopt,
              nullptr};
  for (const auto& [name, value] : args.options) {
    if (!accepts_option(command, name)) {
      return report(io, kExitUsage,
                    fmt::format("option '--{}' does not apply to '{}'; usage: {}", name,
                                command_name(command), command_usage(command)));
    }
  }
  std::string missing;
  for_each_name(command.required, [&](std::string_view name) {
    if (missing.empty() && !args.has(name)) missing = name;
  });
  if (!missing.empty()) {
    return report(io, kExitUsage,
                  fmt::format("'{}' needs --{}; usage: {}", command_name(command), missing,
                              command_usage(command)));
  }
  if (ctx.operands.size() < command.min_operands || ctx.operands.size() > command.max_operands) {
    return report(io, kExitUsage,
                  fmt::format("wrong number of arguments; usage: {}", command_usage(command)));
  }
  if (auto failure = prepare(command, ctx)) return report(io, failure->exit_code, failure->message);

  Status status = command.handler(ctx);
  io.out.flush();
  if (!status) return report(io, exit_code_for(status.error().code), status.error().message);
  return kExitOk;
}

}  // namespace chapar::ctl
