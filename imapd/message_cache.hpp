// SPDX-License-Identifier: AGPL-3.0-or-later
// What FETCH and SEARCH derive from the content of a message, kept across the commands and
// sessions of the daemon: the rendered ENVELOPE, and per header field name the decoded,
// case-folded values that SEARCH compares. Deriving them costs a read of the store and a
// parse per message, and clients that list a mailbox (FETCH 1:* ENVELOPE) or search it ask
// for the same messages again and again.
//
// A message is named by its mailbox, the mailbox's UIDVALIDITY and its UID. That triple names
// the same, unchanging content for ever (RFC 9051 §2.3.1.1), and the store gives every mailbox
// it creates a UIDVALIDITY that no mailbox had before: what is kept never goes stale, and
// nothing needs invalidating (the facts of an expunged message simply age out).
//
// The cache holds about `max_bytes` octets; the facts of the least recently used messages go
// first. A pointer it returns is valid until the next call that adds to it. Loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "libmailstore/types.hpp"

namespace chapar::imap {

struct MessageKey {
  store::MailboxId mailbox = 0;
  uint32_t uidvalidity = 0;
  store::Uid uid = 0;
  bool operator==(const MessageKey&) const = default;
};

class MessageCache {
 public:
  explicit MessageCache(size_t max_bytes) : max_bytes_(max_bytes) {}
  MessageCache(const MessageCache&) = delete;
  MessageCache& operator=(const MessageCache&) = delete;

  // The ENVELOPE as FETCH writes it ("(date subject ...)"), or nullptr when not kept.
  const std::string* envelope(const MessageKey& key);
  void add_envelope(const MessageKey& key, std::string envelope);

  // The values SEARCH compares for the header fields named `name` (in ASCII lower case),
  // in the order of the fields; nullptr when not kept.
  const std::vector<std::string>* field(const MessageKey& key, std::string_view name);
  void add_field(const MessageKey& key, std::string name, std::vector<std::string> values);

  size_t messages() const { return index_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  struct Facts {
    MessageKey key;
    std::optional<std::string> envelope;
    std::vector<std::pair<std::string, std::vector<std::string>>> fields;
    size_t bytes = 0;
  };
  struct KeyHash {
    size_t operator()(const MessageKey& key) const;
  };
  using Lru = std::list<Facts>;  // most recently used first

  // The facts of `key`, made the most recently used; nullptr when there are none.
  Facts* find(const MessageKey& key);
  // The same, added empty when there are none; `added` is then what the new facts cost.
  Facts& find_or_add(const MessageKey& key, size_t& added);
  // Counts `added` more octets for `facts`, the most recently used, then drops the least
  // recently used facts until the total is within the budget; `facts` itself when it alone
  // is over.
  void grow(Facts& facts, size_t added);
  void drop(Lru::iterator it);

  size_t max_bytes_;
  size_t bytes_ = 0;
  Lru lru_;
  std::unordered_map<MessageKey, Lru::iterator, KeyHash> index_;
};

}  // namespace chapar::imap
