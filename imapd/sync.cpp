// SPDX-License-Identifier: AGPL-3.0-or-later
// Reporting what changed in the selected mailbox: new messages (EXISTS), flag changes
// (FETCH), expunges (EXPUNGE, or VANISHED once QRESYNC is enabled, RFC 7162 §3.2.10) and
// new keywords (FLAGS). Changes are asked of the store since the MODSEQ the view has
// reported, so a notification lost or repeated costs nothing but a query.
#include <fmt/format.h>

#include "common/log.hpp"
#include "imapd/response.hpp"
#include "imapd/session.hpp"

namespace chapar::imap {
namespace {

constexpr std::string_view kSystemFlagNames = "\\Answered \\Flagged \\Deleted \\Seen \\Draft";

}  // namespace

std::string flag_list(const store::Entry& entry) {
  std::string out;
  append_flag_list(out, entry);
  return out;
}

void append_flag_list(std::string& out, const store::Entry& entry) {
  out.push_back('(');
  const size_t open = out.size();
  auto add = [&](std::string_view name) {
    if (out.size() > open) out.push_back(' ');
    out.append(name);
  };
  if (entry.flags & store::kAnswered) add("\\Answered");
  if (entry.flags & store::kFlagged) add("\\Flagged");
  if (entry.flags & store::kDeleted) add("\\Deleted");
  if (entry.flags & store::kSeen) add("\\Seen");
  if (entry.flags & store::kDraft) add("\\Draft");
  for (const std::string& k : entry.keywords) add(k);
  out.push_back(')');
}

void Session::on_mailbox_changed(store::MailboxId mailbox, store::ModSeq modseq) {
  if (!view_ || view_->id() != mailbox || closing_) return;
  announced_modseq_ = std::max(announced_modseq_, modseq);
  // A change this session has already reported (its own, announced again by the store)
  // needs no look.
  if (announced_modseq_ <= view_->modseq) return;
  // RFC 2177 §3: while idling, changes are told at once. The notification does not come
  // from this connection, so the report runs as the connection's own work, after which
  // the host writes what it produced.
  if (mode_ == Mode::kIdle && !idle_report_pending_) {
    idle_report_pending_ = true;
    host_.run_later(std::chrono::milliseconds(0), [this] {
      idle_report_pending_ = false;
      if (mode_ == Mode::kIdle) sync(true);
    });
  }
}

std::string Session::flags_response() const {
  std::string out = fmt::format("FLAGS ({}", kSystemFlagNames);
  if (view_) {
    for (const std::string& k : view_->keywords) out += " " + k;
  }
  out.push_back(')');
  return out;
}

std::string Session::permanent_flags_response() const {
  std::string flags = flags_response().substr(6);  // "(...)"
  flags.insert(flags.size() - 1, " \\*");
  return fmt::format("OK [PERMANENTFLAGS {}] Flags permitted.", flags);
}

void Session::note_keywords(const std::vector<std::string>& keywords) {
  bool added = false;
  for (const std::string& k : keywords) added |= view_->keywords.insert(k).second;
  // RFC 9051 §7.3.5: a new FLAGS response when the defined flags change.
  if (added) {
    untagged(flags_response());
    if (!view_->read_only()) untagged(permanent_flags_response());
  }
}

std::string Session::flag_update(uint32_t seq, const store::Entry& entry, bool with_uid) const {
  std::string out;
  append_number(out, seq);
  out += " FETCH (";
  // RFC 7162 §3.2.4: with QRESYNC, unsolicited FETCH responses carry the UID.
  if (with_uid || qresync_) {
    out += "UID ";
    append_number(out, entry.uid);
    out.push_back(' ');
  }
  out += "FLAGS ";
  append_flag_list(out, entry);
  // RFC 7162 §3.1.4: once CONDSTORE is enabled, every FETCH of flags carries MODSEQ.
  if (condstore_) {
    out += " MODSEQ (";
    append_number(out, entry.modseq);
    out.push_back(')');
  }
  out.push_back(')');
  return out;
}

void Session::announce_expunged(const std::vector<store::Uid>& uids) {
  if (uids.empty() || !view_) return;
  if (qresync_) {
    // RFC 7162 §3.2.10: VANISHED with the UIDs instead of one EXPUNGE per message.
    std::vector<uint32_t> gone;
    for (store::Uid u : uids) {
      if (view_->seq(u)) gone.push_back(u);
    }
    std::sort(gone.begin(), gone.end());
    view_->remove(uids);
    if (!gone.empty()) untagged("VANISHED " + format_sequence_set(gone));
    return;
  }
  for (uint32_t seq : view_->remove(uids)) untagged(fmt::format("{} EXPUNGE", seq));
}

void Session::sync(bool allow_expunge, bool force) {
  if (!view_ || closing_) return;
  MailboxView& view = *view_;
  if (announced_modseq_ > view.modseq || force) {
    announced_modseq_ = 0;
    auto changes = services_.store.changes_since(view.id(), view.modseq);
    if (!changes) {
      if (changes.error().code == Errc::kNotFound) {
        // The mailbox was deleted under this session: nothing sensible remains to show.
        return close_with_bye("Selected mailbox was deleted, have to disconnect.");
      }
      host_.logger().error("sync_failed", {{"error", changes.error().message}});
      return;
    }
    for (store::Uid u : changes->expunged) {
      if (view.seq(u)) view.expunged_elsewhere.insert(u);
    }
    if (allow_expunge && !view.expunged_elsewhere.empty()) {
      announce_expunged({view.expunged_elsewhere.begin(), view.expunged_elsewhere.end()});
    }
    const store::Uid last_known = view.last_uid();
    const uint32_t before = view.exists();
    std::vector<std::string> keywords;
    for (const store::Entry& e : changes->changed) {
      keywords.insert(keywords.end(), e.keywords.begin(), e.keywords.end());
      if (e.uid > view.last_uid()) view.append(e.uid);
    }
    note_keywords(keywords);
    if (view.exists() != before) untagged(fmt::format("{} EXISTS", view.exists()));
    for (const store::Entry& e : changes->changed) {
      if (e.uid > last_known || view.expunged_elsewhere.count(e.uid) != 0) continue;
      auto told = view.announced.find(e.uid);
      if (told != view.announced.end() && told->second >= e.modseq) continue;
      if (auto seq = view.seq(e.uid)) untagged(flag_update(*seq, e, false));
    }
    view.announced.clear();
    view.modseq = std::max(view.modseq, changes->highest_modseq);
    return;
  }
  if (allow_expunge && !view.expunged_elsewhere.empty()) {
    announce_expunged({view.expunged_elsewhere.begin(), view.expunged_elsewhere.end()});
  }
}

}  // namespace chapar::imap
