// SPDX-License-Identifier: AGPL-3.0-or-later
// A selected mailbox as one session sees it (DESIGN.md "IMAP views"): its own ordered list
// of UIDs, whose positions are the sequence numbers the client knows, and the MODSEQ up to
// which changes have been reported. Changes made elsewhere enter the view only when the
// session reports them (RFC 9051 §7.5.1), so sequence numbers never move under the client.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/text/ascii.hpp"
#include "imapd/arguments.hpp"
#include "libmailstore/types.hpp"

namespace chapar::imap {

// The FLAGS of an entry as IMAP writes them: "(\\Seen $Label)".
std::string flag_list(const store::Entry& entry);
// The same, appended to `out`.
void append_flag_list(std::string& out, const store::Entry& entry);

class MailboxView {
 public:
  MailboxView(store::Mailbox mailbox, bool read_only, std::vector<store::Uid> uids,
              store::ModSeq modseq);

  store::MailboxId id() const { return mailbox_.id; }
  const store::Mailbox& mailbox() const { return mailbox_; }
  bool read_only() const { return read_only_; }

  uint32_t exists() const { return static_cast<uint32_t>(uids_.size()); }
  const std::vector<store::Uid>& uids() const { return uids_; }
  // `seq` is 1-based and must be <= exists().
  store::Uid uid(uint32_t seq) const { return uids_[seq - 1]; }
  std::optional<uint32_t> seq(store::Uid uid) const;
  store::Uid last_uid() const { return uids_.empty() ? 0 : uids_.back(); }

  // The sequence numbers a set names, ascending. With `uid`, the set holds UIDs and those
  // not in the view are left out; otherwise a number beyond exists() makes the whole set
  // invalid (nullopt; RFC 9051 §9 seq-number: the answer is BAD). "$" names the saved
  // result, less what has been expunged since.
  std::optional<std::vector<uint32_t>> resolve(const SequenceSet& set, bool uid) const;

  // Takes UIDs out of the view and returns the sequence numbers to announce in EXPUNGE
  // responses, highest first, so that each is valid when it is sent.
  std::vector<uint32_t> remove(const std::vector<store::Uid>& uids);
  // A new message; UIDs only grow.
  void append(store::Uid uid) { uids_.push_back(uid); }

  // The highest MODSEQ reported to the client.
  store::ModSeq modseq = 0;
  // Expunged by someone else, not yet announced: still in the view.
  std::set<store::Uid> expunged_elsewhere;
  // Flag states this session announced itself (STORE answers): the MODSEQ of each, so that
  // the next report does not repeat them.
  std::map<store::Uid, store::ModSeq> announced;
  // The UIDs saved by SEARCH RETURN (SAVE), named "$" (RFC 5182); ascending.
  std::vector<store::Uid> saved_result;
  // Keywords the client has been told of in FLAGS.
  std::set<std::string, text::ILess> keywords;

 private:
  store::Mailbox mailbox_;
  bool read_only_ = false;
  std::vector<store::Uid> uids_;
};

}  // namespace chapar::imap
