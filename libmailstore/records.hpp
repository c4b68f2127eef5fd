// SPDX-License-Identifier: AGPL-3.0-or-later
// Row-level helpers shared by the read side (a Store's own connection) and the write side
// (requests running on the writer's connection inside its transaction).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "libmailstore/database.hpp"
#include "libmailstore/store.hpp"
#include "libmailstore/types.hpp"
#include "libmailstore/writer.hpp"

namespace chapar::store::records {

// --- Names and addresses ---

std::string lower_ascii(std::string_view text);

struct Address {
  std::string local;   // as given
  std::string domain;  // lower case
  std::string key() const { return lower_ascii(local) + "@" + domain; }
};

// "local@domain" (split at the last '@'); kInvalidArgument when either side is empty or
// holds spaces or control characters.
Result<Address> parse_address(std::string_view address);

// "INBOX" in any case is INBOX (RFC 9051 §5.1); every other name is kept as given.
std::string canonical_mailbox_name(std::string_view name);
// kInvalidArgument for names a mailbox may not have: empty, control characters, empty
// hierarchy levels, a leading or trailing separator.
Status check_mailbox_name(std::string_view name);
inline constexpr char kHierarchySeparator = '/';

std::vector<std::string> split_keywords(std::string_view text);
std::string join_keywords(const std::vector<std::string>& keywords);

// --- Reads (either connection) ---

// Rows of the column lists used throughout:
//   entries:   uid, modseq, flags, keywords, message_id, size, internal_date, save_date
//   mailboxes: id, account_id, name, uidvalidity, uidnext, highest_modseq, special_use,
//              subscribed
//   accounts:  id, local_part, domain name, password_hash, quota_bytes, used_bytes, disabled
Entry read_entry(const Query& q);
Mailbox read_mailbox(const Query& q);
Account read_account(const Query& q);

Result<std::optional<DomainId>> find_domain(Database& db, std::string_view name);
Result<Account> load_account(Database& db, AccountId id);
Result<std::optional<Account>> find_account(Database& db, std::string_view address_key);
// The account an alias source ("a@d" or "@d", lower case) leads to.
Result<std::optional<AccountId>> find_alias(Database& db, std::string_view source_key);
Result<Mailbox> load_mailbox(Database& db, MailboxId id);
Result<std::optional<Mailbox>> find_mailbox(Database& db, AccountId account, std::string_view name);
// Every entry with `uid` in [first, last], ascending.
Result<std::vector<Entry>> load_entries(Database& db, MailboxId mailbox, Uid first, Uid last);

// --- Writes (the writer's connection, inside its transaction) ---

// Records the mailbox's new uidnext and highest_modseq and announces it after the commit.
Status save_counters(WriteContext& ctx, const Mailbox& mailbox);
// A fresh UIDVALIDITY: the current time, or one more than the last one handed out when
// that is not earlier, so no two mailboxes ever share one.
Result<uint32_t> next_uidvalidity(WriteContext& ctx);
// Creates a mailbox with a new UIDVALIDITY; kAlreadyExists when the name is taken.
Result<MailboxId> insert_mailbox(WriteContext& ctx, AccountId account, std::string_view name,
                                 SpecialUse use, bool subscribed);

// Adds `delta` octets to the account's usage. With `check`, fails with kQuotaExceeded
// (naming the account) when a growth would pass the quota.
Status charge_quota(Database& db, AccountId account, int64_t delta, bool check);

// Stores the content once and returns its id.
Result<MessageId> insert_message(WriteContext& ctx, const PreparedMessage& message);
// Removes the message when no entry and no queue entry refers to it any more.
Status collect_message(Database& db, MessageId message);

struct NewEntry {
  MessageId message = 0;
  uint64_t size = 0;
  uint32_t flags = 0;
  std::string keywords;  // joined
  UnixTime internal_date = 0;
};
// Links an entry with UID mailbox.uidnext++ and MODSEQ mailbox.highest_modseq (which the
// caller has already raised for this operation); the caller saves the counters.
Result<Uid> insert_entry(WriteContext& ctx, Mailbox& mailbox, const NewEntry& entry);
// Deletes the entries, remembers them as expunged at mailbox.highest_modseq, releases their
// quota and their messages. Returns the UIDs that were there, ascending.
Result<std::vector<Uid>> remove_entries(WriteContext& ctx, Mailbox& mailbox,
                                        const std::vector<Entry>& entries);

}  // namespace chapar::store::records
