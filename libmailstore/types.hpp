// SPDX-License-Identifier: AGPL-3.0-or-later
// Plain values that the store hands out and takes in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chapar::store {

using DomainId = int64_t;
using AccountId = int64_t;
using MailboxId = int64_t;
using MessageId = int64_t;  // a stored message body, shared by every entry that holds it
using QueueId = int64_t;
using Uid = uint32_t;
using ModSeq = uint64_t;
using UnixTime = int64_t;  // seconds since the epoch, UTC

// Not a mailbox: what change listeners receive when the outbound queue has new work (a
// delivery queued remote recipients, or a retry was requested).
inline constexpr MailboxId kQueueChanges = 0;

// IMAP system flags (RFC 9051 §2.3.2) as bits; keywords are kept apart as text.
enum Flag : uint32_t {
  kSeen = 1u << 0,
  kAnswered = 1u << 1,
  kFlagged = 1u << 2,
  kDeleted = 1u << 3,
  kDraft = 1u << 4,
};

enum class SpecialUse { kNone, kDrafts, kSent, kTrash, kJunk, kArchive };

// The RFC 6154 special-use attribute, e.g. \Sent; empty for kNone.
constexpr std::string_view special_use_attribute(SpecialUse use) {
  switch (use) {
    case SpecialUse::kDrafts:
      return "\\Drafts";
    case SpecialUse::kSent:
      return "\\Sent";
    case SpecialUse::kTrash:
      return "\\Trash";
    case SpecialUse::kJunk:
      return "\\Junk";
    case SpecialUse::kArchive:
      return "\\Archive";
    case SpecialUse::kNone:
      break;
  }
  return {};
}

struct Domain {
  DomainId id = 0;
  std::string name;  // lower case, IDNA A-label or UTF-8 as configured
};

struct Account {
  AccountId id = 0;
  std::string local_part;  // as created; addresses compare case-insensitively
  std::string domain;
  std::string password_hash;  // crypt(3) format
  uint64_t quota_bytes = 0;   // 0: unlimited
  uint64_t used_bytes = 0;
  bool disabled = false;
  std::string address() const { return local_part + "@" + domain; }
  // Whether `size` more octets fit within the quota as of this reading.
  bool has_room(uint64_t size) const {
    return quota_bytes == 0 || used_bytes + size <= quota_bytes;
  }
};

struct Alias {
  int64_t id = 0;
  std::string source;  // "sales@example.org", or "@example.org" for a catch-all
  std::string target;  // the address of an account
};

// Where RCPT TO leads.
struct Recipient {
  enum class Kind { kLocal, kRemote, kUnknown } kind = Kind::kUnknown;
  AccountId account = 0;  // for kLocal
  std::string address;    // as the client gave it
};

struct Mailbox {
  MailboxId id = 0;
  AccountId account = 0;
  std::string name;  // UTF-8, hierarchy separator '/', "INBOX" for the inbox
  uint32_t uidvalidity = 0;
  Uid uidnext = 1;
  ModSeq highest_modseq = 1;
  SpecialUse special_use = SpecialUse::kNone;
  bool subscribed = false;
};

struct MailboxCounts {
  uint32_t messages = 0;
  uint32_t unseen = 0;
  uint32_t deleted = 0;
  uint64_t size = 0;
};

// One message in one mailbox.
struct Entry {
  Uid uid = 0;
  ModSeq modseq = 0;
  uint32_t flags = 0;
  std::vector<std::string> keywords;
  MessageId message = 0;
  uint64_t size = 0;  // RFC822.SIZE: octets with CRLF line ends
  UnixTime internal_date = 0;
  UnixTime save_date = 0;
};

// What changed in a mailbox after a given MODSEQ (RFC 7162).
struct Changes {
  ModSeq highest_modseq = 0;
  std::vector<Entry> changed;  // new or with changed flags, by UID
  std::vector<Uid> expunged;   // ascending
};

// DSN parameters of a message (RFC 3461), kept for the outbound queue.
struct DsnEnvelope {
  std::string ret;          // "FULL", "HDRS" or empty
  std::string envid;        // xtext-decoded
  bool requiretls = false;  // RFC 8689
};

struct QueueRecipient {
  std::string address;
  std::string notify;  // "NEVER" or a comma list of SUCCESS,FAILURE,DELAY; empty: default
  std::string orcpt;   // "rfc822;addr" as given, or empty
};

enum class RecipientState { kPending, kDelivered, kFailed };

struct QueueRecipientStatus {
  QueueRecipient recipient;
  RecipientState state = RecipientState::kPending;
  std::string last_error;  // the remote reply or the local reason
  bool delay_warned = false;
};

struct QueueEntry {
  QueueId id = 0;
  MessageId message = 0;
  std::string sender;  // "" for the null reverse-path
  DsnEnvelope dsn;
  std::vector<QueueRecipientStatus> recipients;
  UnixTime created = 0;
  UnixTime next_attempt = 0;
  uint32_t attempts = 0;
};

// Counters of this process's writer (group commit at work: requests per commit).
struct WriterStats {
  uint64_t commits = 0;   // transactions committed
  uint64_t requests = 0;  // requests run, committed or failed
};

}  // namespace chapar::store
