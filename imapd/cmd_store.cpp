// SPDX-License-Identifier: AGPL-3.0-or-later
// STORE and UID STORE (RFC 9051 §6.4.6) with UNCHANGEDSINCE (RFC 7162 §3.1.3).
#include <map>

#include <fmt/format.h>

#include "imapd/response.hpp"
#include "imapd/session.hpp"

namespace chapar::imap {

void Session::cmd_store(Command& command) {
  std::optional<SequenceSet> set;
  if (command.args.size() < 3 || !command.args[0].is_atom() ||
      !(set = parse_sequence_set(command.args[0].value))) {
    return finish_bad("Invalid STORE arguments.");
  }
  auto parsed = parse_store(std::span(command.args).subspan(1));
  if (auto* bad = std::get_if<Invalid>(&parsed)) return finish_bad(bad->message + ".");
  StoreRequest req = std::move(std::get<StoreRequest>(parsed));
  auto seqs = view_->resolve(*set, uid_command());
  if (!seqs) return finish_bad("Invalid message sequence number.");
  // RFC 7162 §3.1: UNCHANGEDSINCE enables CONDSTORE.
  if (req.unchanged_since) enable_condstore();

  store::FlagChange change;
  change.mailbox = view_->id();
  for (uint32_t seq : *seqs) change.uids.push_back(view_->uid(seq));
  if (change.uids.empty()) return finish_ok("Store completed.");
  change.op = req.op == StoreRequest::Op::kReplace ? store::FlagOp::kSet
              : req.op == StoreRequest::Op::kAdd   ? store::FlagOp::kAdd
                                                   : store::FlagOp::kRemove;
  change.flags = req.flags.flags;
  change.keywords = req.flags.keywords;
  change.unchanged_since = req.unchanged_since;
  std::vector<store::Uid> uids = change.uids;
  const store::MailboxId mailbox = change.mailbox;
  const bool silent = req.silent;
  services_.store.change_flags(
      std::move(change),
      on_loop<store::FlagChangeResult>([this, uids, mailbox, silent](auto result) {
        if (!result) return finish_store_error(result.error(), "store");
        if (!view_ || view_->id() != mailbox) return finish_ok("Store completed.");
        std::map<store::Uid, const store::Entry*> updated;
        std::vector<std::string> keywords;
        for (const store::Entry& e : result->updated) {
          updated[e.uid] = &e;
          keywords.insert(keywords.end(), e.keywords.begin(), e.keywords.end());
          view_->announced[e.uid] = e.modseq;
        }
        if (!result->updated.empty()) {
          // One change, one new MODSEQ for every entry it updated.
          const store::ModSeq modseq = result->updated.front().modseq;
          if (modseq == view_->modseq + 1) {
            // RFC 7162 §3.1.1: every change takes a MODSEQ above the last one. This change
            // took the next after what the view has reported, so nothing else changed in
            // between, and what it changed is answered here: the view is up to date to it,
            // as a look at the store would have made it.
            view_->modseq = modseq;
            view_->announced.clear();
          }
          services_.watch.notify(mailbox, modseq);
        }
        note_keywords(keywords);
        const bool with_uid = uid_command();
        if (silent) {
          // RFC 7162 §3.1.3: with CONDSTORE, the new MODSEQ is told even when silent.
          if (condstore_) {
            for (const store::Entry& e : result->updated) {
              auto seq = view_->seq(e.uid);
              if (!seq) continue;
              untagged(with_uid || qresync_
                           ? fmt::format("{} FETCH (UID {} MODSEQ ({}))", *seq, e.uid, e.modseq)
                           : fmt::format("{} FETCH (MODSEQ ({}))", *seq, e.modseq));
            }
          }
        } else {
          // RFC 9051 §6.4.6: the flags of every message named, changed or not.
          std::set<store::Uid> modified(result->modified.begin(), result->modified.end());
          auto current = services_.store.entries_in(mailbox, uids.front(), uids.back());
          if (current) {
            size_t next = 0;
            for (const store::Entry& e : *current) {
              while (next < uids.size() && uids[next] < e.uid) ++next;
              if (next >= uids.size() || uids[next] != e.uid) continue;
              if (modified.count(e.uid) && !updated.count(e.uid)) continue;
              auto seq = view_->seq(e.uid);
              if (seq) untagged(flag_update(*seq, e, with_uid));
            }
          }
        }
        if (!result->modified.empty()) {
          // RFC 7162 §3.1.3: MODIFIED names what failed the test, as the command named it.
          std::vector<uint32_t> failed;
          for (store::Uid u : result->modified) {
            if (with_uid) {
              failed.push_back(u);
            } else if (auto seq = view_->seq(u)) {
              failed.push_back(*seq);
            }
          }
          std::sort(failed.begin(), failed.end());
          return finish("OK", "MODIFIED " + format_sequence_set(failed),
                        "Conditional STORE failed.");
        }
        finish_ok("Store completed.");
      }));
}

}  // namespace chapar::imap
