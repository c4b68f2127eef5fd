// SPDX-License-Identifier: AGPL-3.0-or-later
// FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9) with CHANGEDSINCE and VANISHED (RFC 7162
// §3.1.4.1, §3.2.6). The answer streams through FetchJob as the peer reads it.
#include <fmt/format.h>

#include "common/log.hpp"
#include "imapd/response.hpp"
#include "imapd/session.hpp"

namespace chapar::imap {

void Session::cmd_fetch(Command& command) {
  std::optional<SequenceSet> set;
  if (command.args.size() < 2 || !command.args[0].is_atom() ||
      !(set = parse_sequence_set(command.args[0].value))) {
    return finish_bad("Invalid FETCH arguments.");
  }
  auto parsed = parse_fetch(std::span(command.args).subspan(1));
  if (auto* bad = std::get_if<Invalid>(&parsed)) return finish_bad(bad->message + ".");
  FetchRequest request = std::move(std::get<FetchRequest>(parsed));
  // RFC 7162 §3.2.6: VANISHED only in UID FETCH, only with QRESYNC enabled.
  if (request.vanished && (!uid_command() || !qresync_)) {
    return finish_bad("VANISHED needs UID FETCH and QRESYNC.");
  }
  auto seqs = view_->resolve(*set, uid_command());
  if (!seqs) return finish_bad("Invalid message sequence number.");
  bool sets_seen = false;
  for (const FetchItem& item : request.items) {
    if (item.type == FetchItem::Type::kModSeq) enable_condstore();
    sets_seen |=
        (item.type == FetchItem::Type::kSection || item.type == FetchItem::Type::kBinary) &&
        !item.peek;
  }
  if (request.changed_since) enable_condstore();
  sets_seen &= !view_->read_only();

  std::vector<FetchTarget> targets;
  targets.reserve(seqs->size());
  for (uint32_t seq : *seqs) targets.push_back({seq, view_->uid(seq)});

  if (request.vanished) {
    // RFC 7162 §3.2.6: the UIDs of the set expunged since CHANGEDSINCE, before the FETCHes.
    auto changes = services_.store.changes_since(view_->id(), *request.changed_since);
    if (!changes) return finish_store_error(changes.error(), "fetch");
    Intervals wanted = resolve(*set, view_->last_uid());
    std::vector<uint32_t> vanished;
    for (store::Uid u : changes->expunged) {
      if (contains(wanted, u)) vanished.push_back(u);
    }
    if (!vanished.empty()) untagged("VANISHED (EARLIER) " + format_sequence_set(vanished));
  }

  if (!sets_seen || targets.empty()) return start_fetch(std::move(targets), std::move(request), {});
  // RFC 9051 §6.4.5: BODY[...] and BINARY[...] without PEEK set \Seen first.
  store::FlagChange change;
  change.mailbox = view_->id();
  change.op = store::FlagOp::kAdd;
  change.flags = store::kSeen;
  for (const FetchTarget& t : targets) change.uids.push_back(t.uid);
  const store::MailboxId mailbox = view_->id();
  services_.store.change_flags(
      std::move(change),
      on_loop<store::FlagChangeResult>([this, mailbox, targets = std::move(targets),
                                        request = std::move(request)](auto result) mutable {
        if (!result) return finish_store_error(result.error(), "fetch");
        if (!view_ || view_->id() != mailbox) return finish_ok("Fetch completed.");
        std::set<store::Uid> seen;
        for (const store::Entry& e : result->updated) seen.insert(e.uid);
        if (!seen.empty()) services_.watch.notify(mailbox);
        start_fetch(std::move(targets), std::move(request), std::move(seen));
      }));
}

void Session::start_fetch(std::vector<FetchTarget> targets, FetchRequest request,
                          std::set<store::Uid> seen_set) {
  FetchOptions options;
  options.uid_command = uid_command();
  options.condstore = condstore_;
  options.seen_set = std::move(seen_set);
  options.cache = services_.cache;
  options.uidvalidity = view_->mailbox().uidvalidity;
  fetch_ = std::make_unique<FetchJob>(services_.store, view_->id(), std::move(targets),
                                      std::move(request), std::move(options));
  pump_fetch();
}

void Session::pump_fetch() {
  while (fetch_ && !closing_) {
    if (host_.pending_output() >= kStreamChunk) return;  // on_writable() resumes
    std::string out;
    FetchJob::Status status = fetch_->run(out, kStreamChunk);
    send(out);
    if (status == FetchJob::Status::kMore) continue;
    std::unique_ptr<FetchJob> job = std::move(fetch_);
    if (view_) {
      for (const auto& [uid, modseq] : job->reported()) {
        // A change at or below the view's MODSEQ never comes up again: nothing to note.
        if (modseq <= view_->modseq) continue;
        store::ModSeq& told = view_->announced[uid];
        told = std::max(told, modseq);
      }
    }
    if (status == FetchJob::Status::kFailed) {
      if (job->broken()) {
        host_.logger().error("fetch_failed", {{"reason", "store read"}});
        return close_with_bye("FETCH failed: Internal error occurred.");
      }
      return finish_no(job->failure_code(), job->failure_text());
    }
    // RFC 9051 §7.1: messages expunged by another session have nothing left to fetch; the
    // client learns why, and of the expunges at its next command that allows them. (UID
    // FETCH reports the expunges before its own completion.)
    if (job->missing() > 0 && !uid_command()) {
      return finish("OK", code::kExpungeIssued, "Some messages were already expunged.");
    }
    return finish_ok("Fetch completed.");
  }
}

}  // namespace chapar::imap
