// SPDX-License-Identifier: AGPL-3.0-or-later
// The answer of one FETCH (RFC 9051 §6.4.5, §7.5.2), produced piece by piece so that a large
// answer never has to exist whole: FETCH 1:* over 100,000 messages loads their entries in
// batches, and a 50 MB body is read from the store in ranges as the peer takes it.
// ENVELOPE, BODYSTRUCTURE and section offsets come from the structure the store computed at
// delivery (libmailstore/mime); ENVELOPEs are kept in the MessageCache when there is one.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "imapd/arguments.hpp"
#include "imapd/message_cache.hpp"
#include "libmailstore/mime/structure.hpp"
#include "libmailstore/store.hpp"

namespace chapar::imap {

struct FetchTarget {
  uint32_t seq = 0;
  store::Uid uid = 0;
};

struct FetchOptions {
  bool uid_command = false;  // UID FETCH: every response carries the UID (RFC 9051 §6.4.9)
  bool condstore = false;    // CONDSTORE enabled: MODSEQ along with FLAGS (RFC 7162 §3.1)
  // Messages whose \Seen flag this FETCH set: their responses carry FLAGS.
  std::set<store::Uid> seen_set;
  // Where ENVELOPEs are kept across commands (none: each is rendered from the structure),
  // and the UIDVALIDITY that names the mailbox's messages there.
  MessageCache* cache = nullptr;
  uint32_t uidvalidity = 0;
};

class FetchJob {
 public:
  enum class Status { kMore, kDone, kFailed };

  // `targets` ascending. Entries are read from the store as the job goes, so that flags
  // are current.
  FetchJob(store::Store& store, store::MailboxId mailbox, std::vector<FetchTarget> targets,
           FetchRequest request, FetchOptions options);

  // Appends output to `out` until it holds at least `budget` octets or the answer ends.
  Status run(std::string& out, size_t budget);

  // After kFailed: the response code and text of the tagged NO.
  const std::string& failure_code() const { return failure_code_; }
  const std::string& failure_text() const { return failure_text_; }
  // After kFailed: the answer broke in the middle of a literal; only BYE is left.
  bool broken() const { return broken_; }
  // Messages of the request that no longer exist (expunged by another session).
  size_t missing() const { return missing_; }
  // Entries whose FLAGS or MODSEQ this answer reported (for the session's view).
  const std::vector<std::pair<store::Uid, store::ModSeq>>& reported() const { return reported_; }

 private:
  struct Piece {
    std::string text;
    store::MessageId message = 0;  // a range of the stored message when length > 0
    uint64_t offset = 0;
    uint64_t length = 0;
  };

  bool load_batch();
  // Queues the pieces of one message's response; false when an item failed.
  bool render(const FetchTarget& target, const store::Entry& entry);
  // The ENVELOPE of the entry's message (valid until the next call); nullptr when the
  // structure cannot be read.
  const std::string* envelope(const store::Entry& entry);
  bool render_section(const FetchItem& item, const store::Entry& entry, std::string& text);
  // BINARY[...] or BINARY.SIZE[...] with its name into `text`; false when the content
  // cannot be decoded (the job has then failed).
  bool render_binary(const FetchItem& item, const store::Entry& entry, std::string& text);
  const mime::MessageStructure* structure(const store::Entry& entry);
  const std::string* content(const store::Entry& entry);
  void fail(std::string code, std::string text);

  store::Store& store_;
  store::MailboxId mailbox_;
  std::vector<FetchTarget> targets_;
  FetchRequest request_;
  FetchOptions options_;
  bool wants_flags_ = false;
  bool wants_modseq_ = false;
  bool wants_uid_ = false;

  size_t next_ = 0;  // next target to render
  std::vector<store::Entry> batch_;
  size_t batch_pos_ = 0;
  size_t batch_end_ = 0;  // targets_[..batch_end_) are covered by batch_
  std::deque<Piece> pieces_;
  bool failed_ = false;
  bool broken_ = false;
  std::string failure_code_;
  std::string failure_text_;
  size_t missing_ = 0;
  std::vector<std::pair<store::Uid, store::ModSeq>> reported_;

  // The current message's structure and content, loaded once when needed.
  store::MessageId loaded_structure_for_ = 0;
  std::optional<mime::MessageStructure> structure_;
  store::MessageId loaded_content_for_ = 0;
  std::optional<std::string> content_;
  std::string envelope_;  // the last one rendered
};

}  // namespace chapar::imap
