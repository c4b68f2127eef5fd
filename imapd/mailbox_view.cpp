// SPDX-License-Identifier: AGPL-3.0-or-later
#include "imapd/mailbox_view.hpp"

#include <algorithm>

namespace chapar::imap {

MailboxView::MailboxView(store::Mailbox mailbox, bool read_only, std::vector<store::Uid> uids,
                         store::ModSeq modseq)
    : modseq(modseq), mailbox_(std::move(mailbox)), read_only_(read_only), uids_(std::move(uids)) {}

std::optional<uint32_t> MailboxView::seq(store::Uid uid) const {
  auto it = std::lower_bound(uids_.begin(), uids_.end(), uid);
  if (it == uids_.end() || *it != uid) return std::nullopt;
  return static_cast<uint32_t>(it - uids_.begin()) + 1;
}

std::optional<std::vector<uint32_t>> MailboxView::resolve(const SequenceSet& set, bool uid) const {
  std::vector<uint32_t> out;
  if (set.saved_result) {
    for (store::Uid u : saved_result) {
      if (auto s = seq(u)) out.push_back(*s);
    }
    return out;
  }
  if (uid) {
    for (const auto& [first, last] : imap::resolve(set, last_uid())) {
      auto begin = std::lower_bound(uids_.begin(), uids_.end(), first);
      auto end = std::upper_bound(begin, uids_.end(), last);
      for (auto it = begin; it != end; ++it) {
        out.push_back(static_cast<uint32_t>(it - uids_.begin()) + 1);
      }
    }
    return out;
  }
  // A range with "*" is clamped to the mailbox ("1:*" in an empty mailbox names nothing);
  // a number beyond the mailbox elsewhere is the client's mistake.
  for (const SeqRange& r : set.ranges) {
    bool star = r.first == kStar || r.last == kStar;
    if (!star && std::max(r.first, r.last) > exists()) return std::nullopt;
  }
  for (const auto& [first, last] : imap::resolve(set, exists())) {
    for (uint32_t s = first; s <= last && s <= exists(); ++s) out.push_back(s);
  }
  return out;
}

std::vector<uint32_t> MailboxView::remove(const std::vector<store::Uid>& uids) {
  std::vector<uint32_t> seqs;
  for (store::Uid u : uids) {
    if (auto s = seq(u)) seqs.push_back(*s);
    expunged_elsewhere.erase(u);
    announced.erase(u);
  }
  std::sort(seqs.begin(), seqs.end());
  seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
  std::vector<store::Uid> kept;
  kept.reserve(uids_.size() - seqs.size());
  size_t next = 0;
  for (uint32_t i = 0; i < uids_.size(); ++i) {
    if (next < seqs.size() && seqs[next] == i + 1) {
      ++next;
    } else {
      kept.push_back(uids_[i]);
    }
  }
  uids_ = std::move(kept);
  std::reverse(seqs.begin(), seqs.end());
  return seqs;
}

}  // namespace chapar::imap
