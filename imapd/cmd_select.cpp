// SPDX-License-Identifier: AGPL-3.0-or-later
// ENABLE (RFC 5161), SELECT and EXAMINE (RFC 9051 §6.3.2, §6.3.3, with CONDSTORE and QRESYNC
// of RFC 7162 §3.1.8, §3.2.5), CLOSE (§6.4.1) and UNSELECT (§6.4.2).
#include <algorithm>

#include <fmt/format.h>

#include "imapd/response.hpp"
#include "imapd/session.hpp"

namespace chapar::imap {

void Session::enable_condstore() {
  // RFC 7162 §3.1: the first CONDSTORE enabling command with a mailbox selected tells the
  // mailbox's HIGHESTMODSEQ (as far as this session has reported changes).
  if (!condstore_ && view_) untagged(fmt::format("OK [HIGHESTMODSEQ {}] Highest.", view_->modseq));
  condstore_ = true;
}

void Session::cmd_enable(Command& command) {
  if (command.args.empty()) return finish_bad("Missing capability.");
  std::string enabled;
  auto add = [&](std::string_view name, bool& flag) {
    if (!flag) enabled += fmt::format(" {}", name);
    flag = true;
  };
  for (const Arg& arg : command.args) {
    if (!arg.is_atom()) return finish_bad("Invalid capability.");
    if (arg.is("IMAP4REV2")) {
      // RFC 9051 §6.3.1: IMAP4rev2 semantics, UTF-8 names included (§5.1).
      add("IMAP4rev2", rev2_);
      utf8_ = true;
    } else if (arg.is("CONDSTORE")) {
      add("CONDSTORE", condstore_);
    } else if (arg.is("QRESYNC")) {
      // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE.
      add("QRESYNC", qresync_);
      condstore_ = true;
    } else if (arg.is("UTF8=ACCEPT")) {
      // RFC 6855 §3.
      add("UTF8=ACCEPT", utf8_);
    }
  }
  // RFC 5161 §3.1: ENABLED lists what this command enabled.
  untagged("ENABLED" + enabled);
  finish_ok("Enabled.");
}

void Session::cmd_select(Command& command) {
  select(command, false);
}

void Session::cmd_examine(Command& command) {
  select(command, true);
}

void Session::deselect() {
  if (view_) services_.watch.remove(view_->id(), this);
  view_.reset();
  announced_modseq_ = 0;
  if (state_ == State::kSelected) state_ = State::kAuthenticated;
}

void Session::select(Command& command, bool read_only) {
  if (command.args.empty()) return finish_bad("Missing mailbox name.");
  std::optional<std::string> name = mailbox_name(command.args[0]);
  if (!name) return;
  auto params = parse_select_params(std::span(command.args).subspan(1));
  if (auto* bad = std::get_if<Invalid>(&params)) return finish_bad(bad->message + ".");
  const SelectParams& p = std::get<SelectParams>(params);
  // RFC 7162 §3.2.5: QRESYNC parameters need ENABLE QRESYNC first.
  if (p.qresync && !qresync_) return finish_bad("QRESYNC is not enabled.");

  // RFC 9051 §6.3.2: SELECT first leaves the current mailbox, announced with CLOSED.
  if (state_ == State::kSelected) {
    deselect();
    untagged("OK [CLOSED] Previous mailbox closed.");
  }
  auto mailbox = services_.store.find_mailbox(account_->id, *name);
  if (!mailbox) return finish_store_error(mailbox.error(), "select");
  // The mailbox (and its MODSEQ) before the entries: whatever changes in between is
  // reported later, never lost.
  auto entries = services_.store.entries(mailbox->id);
  if (!entries) return finish_store_error(entries.error(), "select");
  if (p.condstore) enable_condstore();

  std::vector<store::Uid> uids;
  uids.reserve(entries->size());
  uint32_t first_unseen = 0;
  for (const store::Entry& e : *entries) {
    uids.push_back(e.uid);
    if (first_unseen == 0 && (e.flags & store::kSeen) == 0) {
      first_unseen = static_cast<uint32_t>(uids.size());
    }
  }
  const store::ModSeq modseq = mailbox->highest_modseq;
  view_.emplace(*mailbox, read_only, std::move(uids), modseq);
  for (const store::Entry& e : *entries) {
    for (const std::string& k : e.keywords) view_->keywords.insert(k);
  }
  services_.watch.add(mailbox->id, this);
  state_ = State::kSelected;

  untagged(flags_response());
  if (read_only) {
    untagged("OK [PERMANENTFLAGS ()] Read-only mailbox.");
  } else {
    untagged(permanent_flags_response());
  }
  untagged(fmt::format("{} EXISTS", view_->exists()));
  if (!rev2_) {
    // RFC 3501 §6.3.1: RECENT, and the first unseen message; \Recent is never set here.
    untagged("0 RECENT");
    if (first_unseen != 0) untagged(fmt::format("OK [UNSEEN {}] First unseen.", first_unseen));
  }
  untagged(fmt::format("OK [UIDVALIDITY {}] UIDs valid.", mailbox->uidvalidity));
  untagged(fmt::format("OK [UIDNEXT {}] Predicted next UID.", mailbox->uidnext));
  // RFC 7162 §3.1.2.1: HIGHESTMODSEQ on every successful SELECT and EXAMINE.
  untagged(fmt::format("OK [HIGHESTMODSEQ {}] Highest.", modseq));
  if (rev2_) {
    // RFC 9051 §6.3.2: a LIST response with the mailbox name.
    std::string list = "LIST () \"/\" ";
    append_mailbox(list, mailbox->name, utf8_);
    untagged(list);
  }

  if (p.qresync && p.qresync->uidvalidity == mailbox->uidvalidity) {
    // RFC 7162 §3.2.5.1: what changed since the client's MODSEQ: VANISHED (EARLIER) for
    // what is gone (of the UIDs it knows, when it says), FETCH for what changed.
    auto changes = services_.store.changes_since(mailbox->id, p.qresync->modseq);
    if (!changes) return finish_store_error(changes.error(), "select");
    std::vector<uint32_t> vanished;
    Intervals known;
    if (p.qresync->known_uids) known = resolve(*p.qresync->known_uids, UINT32_MAX);
    for (store::Uid u : changes->expunged) {
      if (!p.qresync->known_uids || contains(known, u)) vanished.push_back(u);
    }
    if (!vanished.empty()) {
      untagged("VANISHED (EARLIER) " + format_sequence_set(vanished));
    }
    for (const store::Entry& e : changes->changed) {
      if (auto seq = view_->seq(e.uid)) untagged(flag_update(*seq, e, true));
    }
  }
  if (read_only) return finish("OK", code::kReadOnly, "Examine completed.");
  finish("OK", code::kReadWrite, "Select completed.");
}

void Session::cmd_close(Command& command) {
  if (!command.args.empty()) return finish_bad("CLOSE takes no arguments.");
  if (view_->read_only()) {
    deselect();
    return finish_ok("Close completed.");
  }
  // RFC 9051 §6.4.1: expunge silently, then leave the mailbox.
  store::MailboxId mailbox = view_->id();
  deselect();
  services_.store.expunge(mailbox, {},
                          on_loop<std::vector<store::Uid>>([this, mailbox](auto result) {
                            if (!result) return finish_store_error(result.error(), "close");
                            if (!result->empty()) services_.watch.notify(mailbox);
                            finish_ok("Close completed.");
                          }));
}

void Session::cmd_unselect(Command& command) {
  if (!command.args.empty()) return finish_bad("UNSELECT takes no arguments.");
  // RFC 3691, RFC 9051 §6.4.2: leave without expunging.
  deselect();
  finish_ok("Unselect completed.");
}

}  // namespace chapar::imap
