// SPDX-License-Identifier: AGPL-3.0-or-later
// The mail store: one SQLite database in WAL mode under the data directory, shared by every
// daemon and chaparctl. See DESIGN.md "The store".
//
// Threads. Reads run on the calling thread through that thread's own read connection; a
// Store object is used by one thread (the loop thread of a daemon), and a second thread
// opens its own Store with open_another(), which shares the process's writer. Durable
// writes go to the writer: one thread per process that commits everything pending in one
// transaction (group commit, synchronous=FULL) and then calls each request's completion ON
// THE WRITER THREAD; daemons hand it to their loop with a net::LoopPoster. Submitting a
// write (deliver, append, ...) only queues it and is safe from any thread. The *_sync
// variants wait for the commit and are for chaparctl and tests; never call one from a
// completion (it would wait for the thread it runs on).
//
// Durability. A completion that reports success means the change is on disk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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
  bool create = false;          // create the directory and database when missing
  int busy_timeout_ms = 10000;  // how long to wait for another process's transaction
  size_t max_batch = 1024;      // writer requests per transaction (1: no group commit)
  // WAL length (pages) from which the writer checkpoints after a commit; see WriterOptions.
  int checkpoint_pages = 8192;
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
  // Opens (and with options.create, creates) the store, applying pending migrations, and
  // starts this process's writer thread: open it after any fork(), which threads do not
  // survive.
  static Result<std::unique_ptr<Store>> open(const StoreOptions& options);
  // Another Store on the same data directory for another thread of this process: its own
  // read connection, the same writer (so its writes join the same group commits).
  Result<std::unique_ptr<Store>> open_another() const;
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // The database file inside the data directory.
  static constexpr const char* kDatabaseName = "chapar.db";

  const std::filesystem::path& data_dir() const;
  std::filesystem::path temp_dir() const;  // for Spool

  // --- Parsing (pure; any thread) ---
  // Normalises line ends to CRLF (a bare LF becomes CRLF; a lone CR at the very end of the
  // content is dropped; other lone CRs are kept, as Dovecot does) into a new Spool in the
  // same temporary directory when anything changes, then parses the MIME structure once.
  // The content must be finished.
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
  // Whether `account` may use `address` as a sender: its own address or an alias to it,
  // with or without a +tag (a catch-all does not count).
  Result<bool> may_send_as(AccountId account, std::string_view address);
  // Whether `size` more octets fit in the account's quota (always, without one). Delivery
  // checks again in its transaction; this is for an early answer at RCPT time.
  Result<bool> has_room(AccountId account, uint64_t size);

  // --- Domains, accounts, aliases (writes, synchronous: administration) ---
  Result<DomainId> add_domain_sync(std::string_view name);
  Status remove_domain_sync(std::string_view name);  // refuses while accounts remain
  // Creates the account with its standard mailboxes (INBOX, Drafts, Sent, Trash, Junk,
  // Archive with their special-use attributes).
  Result<AccountId> add_account_sync(std::string_view address, std::string_view password_hash,
                                     uint64_t quota_bytes = 0);
  Status set_password_sync(std::string_view address, std::string_view password_hash);
  Status set_quota_sync(std::string_view address, uint64_t quota_bytes);
  Status set_disabled_sync(std::string_view address, bool disabled);
  // Removes the account, its mailboxes and messages, and the aliases that lead to it.
  Status remove_account_sync(std::string_view address);
  // `source` is an address or "@domain" (a catch-all) in a local domain; `target` is the
  // address of an existing account (kNotFound otherwise).
  Status add_alias_sync(std::string_view source, std::string_view target);
  Status remove_alias_sync(std::string_view source);

  // --- Delivery ---
  // One transaction: the content is stored once, an entry is added to the INBOX of each
  // distinct local account, and the remote recipients are queued. Fails as a whole with
  // kQuotaExceeded (the message names the account) when one account has no room.
  // Thread-safe: it only queues the request for the writer.
  void deliver(Delivery delivery, Completion<DeliveryReceipt> done);
  Result<DeliveryReceipt> deliver_sync(Delivery delivery);

  // --- Mailboxes ---
  Result<std::vector<Mailbox>> list_mailboxes(AccountId account);
  Result<Mailbox> find_mailbox(AccountId account, std::string_view name);
  Result<Mailbox> mailbox(MailboxId id);
  Result<MailboxCounts> counts(MailboxId id);
  // RFC 9051 §6.3.4: missing superior names are created too. kAlreadyExists when the name
  // exists (INBOX in any case included).
  void create_mailbox(AccountId account, std::string name, SpecialUse use,
                      Completion<MailboxId> done);
  // Renames the mailbox and its inferior names, which keep their UIDVALIDITY; missing
  // superiors of `to` are created. RFC 9051 §6.3.6: renaming INBOX moves its messages to a
  // new mailbox `to` and leaves INBOX empty; inferior names of INBOX stay where they are.
  // kAlreadyExists when `to` exists, kNotFound when `from` does not.
  void rename_mailbox(AccountId account, std::string from, std::string to, Completion<void> done);
  // RFC 9051 §6.3.5: INBOX cannot be deleted (kPermissionDenied); inferior names stay.
  void delete_mailbox(AccountId account, std::string name, Completion<void> done);
  void set_subscribed(AccountId account, std::string name, bool subscribed, Completion<void> done);
  // Synchronous forms of the above, for chaparctl and tests.
  Result<MailboxId> create_mailbox_sync(AccountId account, std::string name, SpecialUse use);
  Status rename_mailbox_sync(AccountId account, std::string from, std::string to);
  Status delete_mailbox_sync(AccountId account, std::string name);
  Status set_subscribed_sync(AccountId account, std::string name, bool subscribed);

  // --- Entries ---
  // Every entry of the mailbox by ascending UID (the sequence-number view of a session);
  // kNotFound when the mailbox does not exist.
  Result<std::vector<Entry>> entries(MailboxId mailbox);
  Result<std::vector<Entry>> entries_in(MailboxId mailbox, Uid first, Uid last);
  Result<Changes> changes_since(MailboxId mailbox, ModSeq modseq);
  // The structure stored at delivery (serialized mime::MessageStructure).
  Result<std::string> structure(MessageId message);
  // Reads up to `length` octets at `offset` of the message as stored (CRLF line ends).
  Result<std::string> read(MessageId message, uint64_t offset, uint64_t length);
  Result<uint64_t> message_size(MessageId message);

  // Appends every request atomically (RFC 3502 MULTIAPPEND); all must name the same
  // mailbox. kQuotaExceeded when the account has no room. internal_date 0 means now.
  void append(std::vector<AppendRequest> requests, Completion<AppendResult> done);
  // Entries whose flags change get one new MODSEQ and are listed in `updated`; entries
  // already as asked keep their MODSEQ and are not listed; UIDs not in the mailbox are
  // ignored. With unchanged_since, entries whose MODSEQ is above it are left alone and
  // listed in `modified` (RFC 7162 §3.1.3).
  void change_flags(FlagChange change, Completion<FlagChangeResult> done);
  // Removes the given UIDs whatever their flags (POP3 DELE, MOVE), or, when `uids` is
  // empty, every entry with \Deleted (IMAP EXPUNGE and CLOSE). Each removal is remembered
  // with a new MODSEQ for changes_since. Reports the UIDs removed, ascending.
  void expunge(MailboxId mailbox, std::vector<Uid> uids, Completion<std::vector<Uid>> done);
  // Removes those of the given UIDs that have \Deleted (RFC 4315 §2.1 UID EXPUNGE).
  void expunge_deleted(MailboxId mailbox, std::vector<Uid> uids, Completion<std::vector<Uid>> done);
  // New UIDs in `to` for the UIDs of `from` that exist, in ascending order (RFC 4315
  // COPYUID); flags and keywords go along. kQuotaExceeded when the account has no room.
  void copy(MailboxId from, std::vector<Uid> uids, MailboxId to, Completion<CopyResult> done);
  // copy, then expunge of the source entries, atomically (RFC 6851).
  void move(MailboxId from, std::vector<Uid> uids, MailboxId to, Completion<CopyResult> done);
  // Synchronous forms of the above, for chaparctl and tests.
  Result<AppendResult> append_sync(std::vector<AppendRequest> requests);
  Result<FlagChangeResult> change_flags_sync(FlagChange change);
  Result<std::vector<Uid>> expunge_sync(MailboxId mailbox, std::vector<Uid> uids);
  Result<CopyResult> copy_sync(MailboxId from, std::vector<Uid> uids, MailboxId to);
  Result<CopyResult> move_sync(MailboxId from, std::vector<Uid> uids, MailboxId to);

  // --- POP3 ---
  Result<MaildropLock> lock_maildrop(AccountId account);  // kBusy when held elsewhere

  // --- Outbound queue ---
  Result<std::vector<QueueEntry>> queue_entries();
  Result<QueueEntry> queue_entry(QueueId id);
  // Entries with a pending recipient whose next attempt is due, earliest first.
  Result<std::vector<QueueEntry>> due_queue_entries(UnixTime now, size_t limit);
  // Records the state after an attempt: next_attempt, attempts and each recipient's state,
  // last_error and delay_warned (recipients in the order queue_entry gave them).
  void update_queue_entry(QueueEntry entry, Completion<void> done);
  void remove_queue_entry(QueueId id, Completion<void> done);
  Status retry_queue_entry_sync(std::optional<QueueId> id);  // all when empty
  Status remove_queue_entry_sync(QueueId id);

  // --- Change notification across processes ---
  // A datagram socket in the data directory's run/ folder that receives "mailbox M changed"
  // after every commit by any process (kQueueChanges when the outbound queue has new work).
  // Watch fd() for readability (uv_poll), then drain(). Announcements are best effort: on
  // one, ask changes_since(); also re-check now and then in case one was lost.
  class ChangeListener {
   public:
    ~ChangeListener();
    int fd() const { return fd_; }
    // The mailboxes announced since the last call, without duplicates.
    std::vector<MailboxId> drain();
    // The same with the highest MODSEQ announced for each.
    std::vector<std::pair<MailboxId, ModSeq>> drain_changes();

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
  // This process's writer: commits and requests so far.
  WriterStats writer_stats() const;

 private:
  Store() = default;
  static Result<std::unique_ptr<Store>> attach(std::filesystem::path data_dir,
                                               std::shared_ptr<Writer> writer, int busy_timeout_ms);
  std::unique_ptr<Database> db_;
  std::shared_ptr<Writer> writer_;
  std::filesystem::path data_dir_;
  int busy_timeout_ms_ = 10000;
};

}  // namespace chapar::store
