// SPDX-License-Identifier: AGPL-3.0-or-later
// Mailbox management: CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE (RFC 9051 §6.3.4–
// §6.3.8), NAMESPACE (RFC 2342, §6.3.10) and STATUS (§6.3.11, RFC 7162 §3.1.6).
#include <fmt/format.h>

#include "imapd/response.hpp"
#include "imapd/session.hpp"

namespace chapar::imap {

std::optional<std::string> Session::mailbox_name(const Arg& arg) {
  if (!arg.is_astring()) {
    finish_bad("Invalid mailbox name.");
    return std::nullopt;
  }
  std::optional<std::string> name = decode_mailbox_name(arg.value, utf8_);
  if (!name || name->empty()) {
    finish_bad(utf8_ ? "Mailbox name is not valid UTF-8."
                     : "Mailbox name is not valid modified UTF-7.");
    return std::nullopt;
  }
  // RFC 9051 §5.1: INBOX is case-insensitive, and so is it as the first level of a name.
  if (iequals(*name, "INBOX")) return std::string("INBOX");
  if (name->size() > 6 && iequals(name->substr(0, 6), "INBOX/")) name->replace(0, 5, "INBOX");
  return name;
}

void Session::cmd_create(Command& command) {
  if (command.args.size() != 1) return finish_bad("CREATE takes a mailbox name.");
  std::optional<std::string> name = mailbox_name(command.args[0]);
  if (!name) return;
  // RFC 9051 §6.3.4: a trailing separator only says that inferiors will follow.
  while (name->size() > 1 && name->back() == '/') name->pop_back();
  services_.store.create_mailbox(account_->id, *name, store::SpecialUse::kNone,
                                 on_loop<store::MailboxId>([this](auto result) {
                                   if (!result) return finish_store_error(result.error(), "create");
                                   finish_ok("Create completed.");
                                 }));
}

void Session::cmd_delete(Command& command) {
  if (command.args.size() != 1) return finish_bad("DELETE takes a mailbox name.");
  std::optional<std::string> name = mailbox_name(command.args[0]);
  if (!name) return;
  std::optional<store::MailboxId> id;
  if (auto found = services_.store.find_mailbox(account_->id, *name)) id = found->id;
  services_.store.delete_mailbox(account_->id, *name,
                                 on_loop<void>([this, id](Result<void> result) {
                                   if (!result) return finish_store_error(result.error(), "delete");
                                   // Sessions with it selected learn that it is gone.
                                   if (id) services_.watch.notify(*id);
                                   finish_ok("Delete completed.");
                                 }));
}

void Session::cmd_rename(Command& command) {
  if (command.args.size() != 2) return finish_bad("RENAME takes two mailbox names.");
  std::optional<std::string> from = mailbox_name(command.args[0]);
  if (!from) return;
  std::optional<std::string> to = mailbox_name(command.args[1]);
  if (!to) return;
  while (to->size() > 1 && to->back() == '/') to->pop_back();
  if (*to == "INBOX") return finish_no(code::kAlreadyExists, "Mailbox already exists.");
  std::optional<store::MailboxId> id;
  if (auto found = services_.store.find_mailbox(account_->id, *from)) id = found->id;
  services_.store.rename_mailbox(account_->id, *from, *to,
                                 on_loop<void>([this, id](Result<void> result) {
                                   if (!result) return finish_store_error(result.error(), "rename");
                                   // Renaming INBOX moves its messages away.
                                   if (id) services_.watch.notify(*id);
                                   finish_ok("Rename completed.");
                                 }));
}

void Session::subscribe(Command& command, bool subscribed) {
  if (command.args.size() != 1) return finish_bad("Missing mailbox name.");
  std::optional<std::string> name = mailbox_name(command.args[0]);
  if (!name) return;
  services_.store.set_subscribed(
      account_->id, *name, subscribed, on_loop<void>([this, subscribed](Result<void> result) {
        if (!result) return finish_store_error(result.error(), "subscribe");
        finish_ok(subscribed ? "Subscribe completed." : "Unsubscribe completed.");
      }));
}

void Session::cmd_subscribe(Command& command) {
  subscribe(command, true);
}

void Session::cmd_unsubscribe(Command& command) {
  subscribe(command, false);
}

void Session::cmd_namespace(Command& command) {
  if (!command.args.empty()) return finish_bad("NAMESPACE takes no arguments.");
  // One personal namespace with the separator "/"; no other users', no shared ones.
  untagged("NAMESPACE ((\"\" \"/\")) NIL NIL");
  finish_ok("Namespace completed.");
}

Result<std::string> Session::status_response(const store::Mailbox& mailbox, uint32_t items) {
  std::string out = "STATUS ";
  append_mailbox(out, mailbox.name, utf8_);
  out += " (";
  auto add = [&](std::string_view name, uint64_t value) {
    if (out.back() != '(') out.push_back(' ');
    out += fmt::format("{} {}", name, value);
  };
  store::MailboxCounts counts;
  if (items & (kStatusMessages | kStatusUnseen | kStatusDeleted | kStatusSize)) {
    auto c = services_.store.counts(mailbox.id);
    if (!c) return fail(c.error().code, c.error().message);
    counts = *c;
  }
  if (items & kStatusMessages) add("MESSAGES", counts.messages);
  if (items & kStatusRecent) add("RECENT", 0);
  if (items & kStatusUidNext) add("UIDNEXT", mailbox.uidnext);
  if (items & kStatusUidValidity) add("UIDVALIDITY", mailbox.uidvalidity);
  if (items & kStatusUnseen) add("UNSEEN", counts.unseen);
  if (items & kStatusDeleted) add("DELETED", counts.deleted);
  if (items & kStatusSize) add("SIZE", counts.size);
  if (items & kStatusHighestModSeq) add("HIGHESTMODSEQ", mailbox.highest_modseq);
  out.push_back(')');
  return out;
}

void Session::cmd_status(Command& command) {
  if (command.args.size() != 2) return finish_bad("STATUS takes a mailbox and items.");
  std::optional<std::string> name = mailbox_name(command.args[0]);
  if (!name) return;
  auto items = parse_status_items(command.args[1]);
  if (auto* bad = std::get_if<Invalid>(&items)) return finish_bad(bad->message + ".");
  uint32_t wanted = std::get<uint32_t>(items);
  // RFC 7162 §3.1: STATUS (HIGHESTMODSEQ) enables CONDSTORE.
  if (wanted & kStatusHighestModSeq) enable_condstore();
  auto mailbox = services_.store.find_mailbox(account_->id, *name);
  if (!mailbox) return finish_store_error(mailbox.error(), "status");
  auto response = status_response(*mailbox, wanted);
  if (!response) return finish_store_error(response.error(), "status");
  untagged(*response);
  finish_ok("Status completed.");
}

}  // namespace chapar::imap
