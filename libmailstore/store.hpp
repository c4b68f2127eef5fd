// SPDX-License-Identifier: AGPL-3.0-or-later
// The mail store: one SQLite database in WAL mode under the data directory, shared by every
// daemon and chaparctl. See DESIGN.md "The store".
//
// Threads. Reads run on the calling thread through that thread's own read connection; a
// Store object is used by one thread (the loop thread of a daemon), and a second thread
// opens its own Store. Durable writes go to the writer: one thread per process that commits
// everything pending in one transaction (group commit, synchronous=FULL) and then calls each
// request's completion ON THE WRITER THREAD; daemons hand it to their loop with a
// net::LoopPoster. The *_sync variants wait for the commit and are for chaparctl and tests.
//
// Durability. A completion that reports success means the change is on disk.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "libmailstore/spool.hpp"
#include "libmailstore/types.hpp"

namespace chapar::store {

class Database;
class Writer;

template <typename T>
using Completion = std::function<void(Result<T>)>;

// Content with the facts parsed once at delivery (size, dates, envelope, MIME structure).
// Made by Store::prepare on any thread; the parse of a large message belongs off the loop.
struct PreparedMessage {
  std::shared_ptr<Spool> content;
  std::string structure;  // serialized mime::MessageStructure
  uint64_t size = 0;      // octets with CRLF line ends, as IMAP and POP3 report them
};

struct Delivery {
  PreparedMessage message;
  std::string sender;                  // MAIL FROM, "" for the null reverse-path
  std::vector<AccountId> local;        // INBOX of each, one entry per account
  std::vector<QueueRecipient> remote;  // into the outbound queue, in the same transaction
  DsnEnvelope dsn;
  UnixTime internal_date = 0;
};

struct DeliveryReceipt {
  MessageId message = 0;
  std::optional<QueueId> queued;
};

struct AppendRequest {
  MailboxId mailbox = 0;
  PreparedMessage message;
  uint32_t flags = 0;
  std::vector<std::string> keywords;
  UnixTime internal_date = 0;
};

struct AppendResult {
  uint32_t uidvalidity = 0;
  std::vector<Uid> uids;
};

enum class FlagOp { kSet, kAdd, kRemove };

struct FlagChange {
  MailboxId mailbox = 0;
  std::vector<Uid> uids;  // ascending
  FlagOp op = FlagOp::kAdd;
  uint32_t flags = 0;
  std::vector<std::string> keywords;
  std::optional<ModSeq> unchanged_since;  // RFC 7162 UNCHANGEDSINCE
};

struct FlagChangeResult {
  std::vector<Entry> updated;  // with their new MODSEQ
  std::vector<Uid> modified;   // failed the UNCHANGEDSINCE test (RFC 7162 MODIFIED)
};

struct CopyResult {
  uint32_t uidvalidity = 0;  // of the destination
  std::vector<Uid> source_uids;
  std::vector<Uid> dest_uids;
};

struct StoreOptions {
  std::filesystem::path data_dir;
  bool create = false;  // create the directory and database when missing
};

// An exclusive hold on an account's maildrop for a POP3 session. Released when destroyed
// or when the process dies (flock on a per-account lock file).
class MaildropLock {
 public:
  MaildropLock() = default;
  explicit MaildropLock(int fd) : fd_(fd) {}
  MaildropLock(MaildropLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  MaildropLock& operator=(MaildropLock&& other) noexcept;
  ~MaildropLock();

 private:
  int fd_ = -1;
};

class Store {
 public:
  // Opens (and with options.create, creates) the store, applying pending migrations.
  static Result<std::unique_ptr<Store>> open(const StoreOptions& options);
  ~Store();

  const std::filesystem::path& data_dir() const;
  std::filesystem::path temp_dir() const;  // for Spool

  // --- Parsing (pure; any thread) ---
  static Result<PreparedMessage> prepare(std::shared_ptr<Spool> content);

  // --- Domains, accounts, aliases (reads) ---
  Result<std::vector<Domain>> list_domains();
  Result<bool> is_local_domain(std::string_view domain);
  Result<std::vector<Account>> list_accounts(std::string_view domain = {});
  // By full address, case-insensitively; kNotFound when there is none.
  Result<Account> find_account(std::string_view address);
  Result<Account> account(AccountId id);
  Result<std::vector<Alias>> list_aliases(std::string_view domain = {});
  // Exact address, then alias, then plus-addressing (user+tag@), then catch-all (@domain).
  Result<Recipient> resolve_recipient(std::string_view address);
  // Whether `account` may use `address` as a sender: its own address or an alias to it.
  Result<bool> may_send_as(AccountId account, std::string_view address);

  // --- Domains, accounts, aliases (writes, synchronous: administration) ---
  Result<DomainId> add_domain_sync(std::string_view name);
  Status remove_domain_sync(std::string_view name);  // refuses while accounts remain
  // Creates the account with its standard mailboxes (INBOX, Drafts, Sent, Trash, Junk,
  // Archive with their special-use attributes).
  Result<AccountId> add_account_sync(std::string_view address, std::string_view password_hash,
                                     uint64_t quota_bytes = 0);
  Status set_password_sync(std::string_view address, std::string_view password_hash);
  Status set_quota_sync(std::string_view address, uint64_t quota_bytes);
  Status remove_account_sync(std::string_view address);
  Status add_alias_sync(std::string_view source, std::string_view target);
  Status remove_alias_sync(std::string_view source);

  // --- Delivery ---
  void deliver(Delivery delivery, Completion<DeliveryReceipt> done);
  Result<DeliveryReceipt> deliver_sync(Delivery delivery);

  // --- Mailboxes ---
  Result<std::vector<Mailbox>> list_mailboxes(AccountId account);
  Result<Mailbox> find_mailbox(AccountId account, std::string_view name);
  Result<Mailbox> mailbox(MailboxId id);
  Result<MailboxCounts> counts(MailboxId id);
  void create_mailbox(AccountId account, std::string name, SpecialUse use,
                      Completion<MailboxId> done);
  // RFC 9051 §6.3.6: renaming INBOX moves its messages to the new mailbox and leaves an
  // empty INBOX; inferior names move along.
  void rename_mailbox(AccountId account, std::string from, std::string to, Completion<void> done);
  void delete_mailbox(AccountId account, std::string name, Completion<void> done);
  void set_subscribed(AccountId account, std::string name, bool subscribed, Completion<void> done);

  // --- Entries ---
  // Every entry of the mailbox by ascending UID (the sequence-number view of a session).
  Result<std::vector<Entry>> entries(MailboxId mailbox);
  Result<std::vector<Entry>> entries_in(MailboxId mailbox, Uid first, Uid last);
  Result<Changes> changes_since(MailboxId mailbox, ModSeq modseq);
  // The structure stored at delivery (serialized mime::MessageStructure).
  Result<std::string> structure(MessageId message);
  // Reads up to `length` octets at `offset` of the message as stored (CRLF line ends).
  Result<std::string> read(MessageId message, uint64_t offset, uint64_t length);
  Result<uint64_t> message_size(MessageId message);

  void append(std::vector<AppendRequest> requests, Completion<AppendResult> done);
  void change_flags(FlagChange change, Completion<FlagChangeResult> done);
  // Removes the given UIDs (all with \Deleted when `uids` is empty and `only_deleted`).
  void expunge(MailboxId mailbox, std::vector<Uid> uids, Completion<std::vector<Uid>> done);
  void copy(MailboxId from, std::vector<Uid> uids, MailboxId to, Completion<CopyResult> done);
  void move(MailboxId from, std::vector<Uid> uids, MailboxId to, Completion<CopyResult> done);

  // --- POP3 ---
  Result<MaildropLock> lock_maildrop(AccountId account);  // kBusy when held elsewhere

  // --- Outbound queue ---
  Result<std::vector<QueueEntry>> queue_entries();
  Result<QueueEntry> queue_entry(QueueId id);
  Result<std::vector<QueueEntry>> due_queue_entries(UnixTime now, size_t limit);
  void update_queue_entry(QueueEntry entry, Completion<void> done);  // state after an attempt
  void remove_queue_entry(QueueId id, Completion<void> done);
  Status retry_queue_entry_sync(std::optional<QueueId> id);  // all when empty
  Status remove_queue_entry_sync(QueueId id);

  // --- Change notification across processes ---
  // A datagram socket in the data directory's run/ folder that receives "mailbox M changed"
  // after every commit by any process. Watch fd() for readability (uv_poll), then drain().
  class ChangeListener {
   public:
    ~ChangeListener();
    int fd() const { return fd_; }
    // The mailboxes announced since the last call, without duplicates.
    std::vector<MailboxId> drain();

   private:
    friend class Store;
    int fd_ = -1;
    std::filesystem::path path_;
  };
  Result<std::unique_ptr<ChangeListener>> listen_for_changes();

  // Statistics for chaparctl stats.
  struct Stats {
    uint64_t domains = 0, accounts = 0, mailboxes = 0, messages = 0, bytes = 0, queued = 0;
  };
  Result<Stats> stats();

 private:
  Store() = default;
  std::unique_ptr<Database> db_;
  std::shared_ptr<Writer> writer_;
  std::filesystem::path data_dir_;
};

}  // namespace chapar::store
