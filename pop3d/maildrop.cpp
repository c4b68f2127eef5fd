// SPDX-License-Identifier: AGPL-3.0-or-later
#include "pop3d/maildrop.hpp"

#include <fmt/format.h>

namespace chapar::pop3 {

Maildrop::Maildrop(const store::Mailbox& mailbox, const std::vector<store::Entry>& entries)
    : mailbox_(mailbox.id), uidvalidity_(mailbox.uidvalidity) {
  messages_.reserve(entries.size());
  for (const store::Entry& entry : entries) {
    messages_.push_back({entry.uid, entry.message, entry.size, false});
    live_size_ += entry.size;
  }
  live_count_ = count();
}

Maildrop::Lookup Maildrop::lookup(uint32_t number) const {
  if (number == 0 || number > count()) return Lookup::kNoSuchMessage;
  if (messages_[number - 1].deleted) return Lookup::kDeleted;
  return Lookup::kFound;
}

void Maildrop::mark_deleted(uint32_t number) {
  MaildropMessage& m = messages_[number - 1];
  if (m.deleted) return;
  m.deleted = true;
  --live_count_;
  live_size_ -= m.size;
}

void Maildrop::unmark_all() {
  live_count_ = 0;
  live_size_ = 0;
  for (MaildropMessage& m : messages_) {
    m.deleted = false;
    ++live_count_;
    live_size_ += m.size;
  }
}

std::vector<store::Uid> Maildrop::deleted_uids() const {
  std::vector<store::Uid> uids;
  for (const MaildropMessage& m : messages_) {
    if (m.deleted) uids.push_back(m.uid);
  }
  return uids;
}

std::string Maildrop::unique_id(uint32_t number) const {
  return fmt::format("{:08x}.{:08x}", uidvalidity_, messages_[number - 1].uid);
}

}  // namespace chapar::pop3
