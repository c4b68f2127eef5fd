// SPDX-License-Identifier: AGPL-3.0-or-later
#include "imapd/message_cache.hpp"

#include <functional>
#include <iterator>

namespace chapar::imap {
namespace {

// What the list and the index spend on one message besides its Facts.
constexpr size_t kNodeOverhead = 96;

// Octets a string occupies, its own heap block included (short strings have none).
size_t octets(const std::string& s) {
  constexpr size_t kInline = 15;
  return sizeof(std::string) + (s.size() > kInline ? s.size() + 1 : 0);
}

}  // namespace

size_t MessageCache::KeyHash::operator()(const MessageKey& key) const {
  const uint64_t mixed = (static_cast<uint64_t>(key.uidvalidity) << 32 | key.uid) ^
                         (static_cast<uint64_t>(key.mailbox) * 0x9e3779b97f4a7c15ULL);
  return std::hash<uint64_t>{}(mixed);
}

MessageCache::Facts* MessageCache::find(const MessageKey& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return &*it->second;
}

MessageCache::Facts& MessageCache::find_or_add(const MessageKey& key, size_t& added) {
  added = 0;
  if (Facts* facts = find(key)) return *facts;
  lru_.push_front(Facts{key, std::nullopt, {}, 0});
  index_.emplace(key, lru_.begin());
  added = sizeof(Facts) + kNodeOverhead;
  return lru_.front();
}

void MessageCache::grow(Facts& facts, size_t added) {
  facts.bytes += added;
  bytes_ += added;
  if (facts.bytes > max_bytes_) {
    // Alone over the budget: not kept, and nothing else is dropped for it.
    drop(lru_.begin());
    return;
  }
  while (bytes_ > max_bytes_) drop(std::prev(lru_.end()));
}

void MessageCache::drop(Lru::iterator it) {
  bytes_ -= it->bytes;
  index_.erase(it->key);
  lru_.erase(it);
}

const std::string* MessageCache::envelope(const MessageKey& key) {
  Facts* facts = find(key);
  return facts && facts->envelope ? &*facts->envelope : nullptr;
}

void MessageCache::add_envelope(const MessageKey& key, std::string envelope) {
  size_t added = 0;
  Facts& facts = find_or_add(key, added);
  if (facts.envelope) return;
  added += octets(envelope);
  facts.envelope = std::move(envelope);
  grow(facts, added);
}

const std::vector<std::string>* MessageCache::field(const MessageKey& key, std::string_view name) {
  Facts* facts = find(key);
  if (!facts) return nullptr;
  for (const auto& [field, values] : facts->fields) {
    if (field == name) return &values;
  }
  return nullptr;
}

void MessageCache::add_field(const MessageKey& key, std::string name,
                             std::vector<std::string> values) {
  size_t added = 0;
  Facts& facts = find_or_add(key, added);
  for (const auto& kept : facts.fields) {
    if (kept.first == name) return;
  }
  added += octets(name) + sizeof(values);
  for (const std::string& value : values) added += octets(value);
  facts.fields.emplace_back(std::move(name), std::move(values));
  grow(facts, added);
}

}  // namespace chapar::imap
