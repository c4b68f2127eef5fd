// SPDX-License-Identifier: AGPL-3.0-or-later
// APPEND (RFC 9051 §6.3.12) with MULTIAPPEND (RFC 3502), APPENDUID (RFC 4315 §3) and
// literal8 content (RFC 3516 §4.4).
#include <chrono>

#include <fmt/format.h>

#include "imapd/response.hpp"
#include "imapd/session.hpp"

namespace chapar::imap {

void Session::cmd_append(Command& command) {
  if (command.args.size() < 2) return finish_bad("APPEND takes a mailbox and a message.");
  std::optional<std::string> name = mailbox_name(command.args[0]);
  if (!name) return;
  auto parsed = parse_append(std::span(command.args).subspan(1));
  if (auto* bad = std::get_if<Invalid>(&parsed)) return finish_bad(bad->message + ".");
  std::vector<AppendMessage> messages = std::move(std::get<std::vector<AppendMessage>>(parsed));
  auto target = services_.store.find_mailbox(account_->id, *name);
  if (!target) return finish_store_error(target.error(), "append");

  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(host_.now().time_since_epoch()).count();
  auto requests = std::make_shared<std::vector<store::AppendRequest>>();
  std::vector<std::shared_ptr<store::Spool>> contents;
  for (const AppendMessage& m : messages) {
    Literal& literal = command.literals[static_cast<size_t>(m.literal)];
    if (literal.size == 0) return finish_no("", "Can't save a zero byte message.");
    std::shared_ptr<store::Spool> content =
        literal.spool ? literal.spool : store::Spool::from_string(std::move(literal.bytes));
    contents.push_back(content);
    store::AppendRequest& r = requests->emplace_back();
    r.mailbox = target->id;
    r.flags = m.flags.flags;
    r.keywords = m.flags.keywords;
    r.internal_date = m.internal_date.value_or(now);
  }
  // The MIME parse of a large message is slow work: off the loop.
  auto failure = std::make_shared<std::optional<Error>>();
  const store::MailboxId mailbox = target->id;
  host_.run_blocking(
      [requests, contents, failure] {
        for (size_t i = 0; i < contents.size(); ++i) {
          auto prepared = store::Store::prepare(contents[i]);
          if (!prepared) {
            *failure = prepared.error();
            return;
          }
          (*requests)[i].message = std::move(*prepared);
        }
      },
      [this, requests, failure, mailbox] {
        if (*failure) return finish_store_error(**failure, "append");
        services_.store.append(std::move(*requests),
                               on_loop<store::AppendResult>([this, mailbox](auto result) {
                                 if (!result) return finish_store_error(result.error(), "append");
                                 services_.watch.notify(mailbox);
                                 finish("OK",
                                        fmt::format("APPENDUID {} {}", result->uidvalidity,
                                                    format_sequence_set(result->uids)),
                                        "Append completed.");
                               }));
      });
}

}  // namespace chapar::imap
