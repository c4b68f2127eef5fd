// SPDX-License-Identifier: AGPL-3.0-or-later
// A POP3 session's view of its maildrop: the INBOX as it was at login (RFC 1939 §4: message
// numbers are fixed for the session), with the deletion marks of DELE. Pure bookkeeping;
// the session applies the marks to the store after QUIT.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "libmailstore/types.hpp"

namespace chapar::pop3 {

struct MaildropMessage {
  store::Uid uid = 0;
  store::MessageId message = 0;
  uint64_t size = 0;  // octets of the stored message, before byte-stuffing (RFC 1939 §11)
  bool deleted = false;
};

class Maildrop {
 public:
  Maildrop() = default;
  Maildrop(const store::Mailbox& mailbox, const std::vector<store::Entry>& entries);

  store::MailboxId mailbox() const { return mailbox_; }
  // Message numbers run from 1 to count(), deleted ones included.
  uint32_t count() const { return static_cast<uint32_t>(messages_.size()); }
  // Messages not marked deleted, and their total size (STAT, RFC 1939 §5).
  uint32_t live_count() const { return live_count_; }
  uint64_t live_size() const { return live_size_; }

  enum class Lookup { kFound, kNoSuchMessage, kDeleted };
  Lookup lookup(uint32_t number) const;
  // Valid for 1 <= number <= count().
  const MaildropMessage& message(uint32_t number) const { return messages_[number - 1]; }

  // Marks a message found by lookup() for deletion.
  void mark_deleted(uint32_t number);
  // RSET: unmarks every message.
  void unmark_all();
  // The UIDs marked for deletion, ascending.
  std::vector<store::Uid> deleted_uids() const;

  // RFC 1939 §7 UIDL: a value that stays the same for the message across sessions, as long
  // as the mailbox keeps its UIDVALIDITY: both, in hexadecimal.
  std::string unique_id(uint32_t number) const;

 private:
  store::MailboxId mailbox_ = 0;
  uint32_t uidvalidity_ = 0;
  std::vector<MaildropMessage> messages_;
  uint32_t live_count_ = 0;
  uint64_t live_size_ = 0;
};

}  // namespace chapar::pop3
