// SPDX-License-Identifier: AGPL-3.0-or-later
#include "libmailstore/schema.hpp"

#include <fmt/format.h>

#include <array>
#include <ctime>

namespace chapar::store {

namespace {

// Never edit a migration that has shipped: add a new one.
constexpr std::array kMigrations = {
    // 1: the initial schema.
    R"sql(
CREATE TABLE counters(
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE domains(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);

CREATE TABLE accounts(
  id INTEGER PRIMARY KEY,
  domain_id INTEGER NOT NULL REFERENCES domains(id),
  local_part TEXT NOT NULL,
  address_key TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  quota_bytes INTEGER NOT NULL DEFAULT 0,
  used_bytes INTEGER NOT NULL DEFAULT 0,
  disabled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX accounts_domain ON accounts(domain_id);

CREATE TABLE aliases(
  id INTEGER PRIMARY KEY,
  domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
  source TEXT NOT NULL,
  source_key TEXT NOT NULL UNIQUE,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE
);
CREATE INDEX aliases_domain ON aliases(domain_id);
CREATE INDEX aliases_account ON aliases(account_id);

CREATE TABLE mailboxes(
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  uidvalidity INTEGER NOT NULL,
  uidnext INTEGER NOT NULL DEFAULT 1,
  highest_modseq INTEGER NOT NULL DEFAULT 1,
  special_use INTEGER NOT NULL DEFAULT 0,
  subscribed INTEGER NOT NULL DEFAULT 0,
  UNIQUE(account_id, name)
);

CREATE TABLE messages(
  id INTEGER PRIMARY KEY,
  size INTEGER NOT NULL,
  structure BLOB NOT NULL,
  created INTEGER NOT NULL
);

CREATE TABLE message_content(
  message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
  content BLOB NOT NULL
);

CREATE TABLE entries(
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  uid INTEGER NOT NULL,
  message_id INTEGER NOT NULL REFERENCES messages(id),
  flags INTEGER NOT NULL DEFAULT 0,
  keywords TEXT NOT NULL DEFAULT '',
  modseq INTEGER NOT NULL,
  size INTEGER NOT NULL,
  internal_date INTEGER NOT NULL,
  save_date INTEGER NOT NULL,
  PRIMARY KEY(mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX entries_modseq ON entries(mailbox_id, modseq);
CREATE INDEX entries_message ON entries(message_id);

CREATE TABLE expunged(
  mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
  uid INTEGER NOT NULL,
  modseq INTEGER NOT NULL,
  PRIMARY KEY(mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX expunged_modseq ON expunged(mailbox_id, modseq);

CREATE TABLE queue(
  id INTEGER PRIMARY KEY,
  message_id INTEGER NOT NULL REFERENCES messages(id),
  sender TEXT NOT NULL,
  dsn_ret TEXT NOT NULL DEFAULT '',
  dsn_envid TEXT NOT NULL DEFAULT '',
  requiretls INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL,
  next_attempt INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX queue_next_attempt ON queue(next_attempt);
CREATE INDEX queue_message ON queue(message_id);

CREATE TABLE queue_recipients(
  queue_id INTEGER NOT NULL REFERENCES queue(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  address TEXT NOT NULL,
  notify TEXT NOT NULL DEFAULT '',
  orcpt TEXT NOT NULL DEFAULT '',
  state INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  delay_warned INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(queue_id, position)
) WITHOUT ROWID;
)sql",
};

}  // namespace

int latest_schema_version() {
  return static_cast<int>(kMigrations.size());
}

Status migrate(Database& db) {
  auto txn = Transaction::begin(db, Transaction::Mode::kImmediate);
  if (!txn) return Unexpected{txn.error()};
  if (auto s = db.exec("CREATE TABLE IF NOT EXISTS schema_version("
                       "version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)");
      !s) {
    return s;
  }
  int current = 0;
  {
    auto q = db.query("SELECT COALESCE(MAX(version), 0) FROM schema_version");
    if (!q) return Unexpected{q.error()};
    auto row = q->next();
    if (!row) return Unexpected{row.error()};
    current = static_cast<int>(q->integer(0));
  }
  if (current > latest_schema_version()) {
    return fail(Errc::kInvalidArgument,
                fmt::format("the store has schema version {}, newer than this program's {}",
                            current, latest_schema_version()));
  }
  for (int version = current + 1; version <= latest_schema_version(); ++version) {
    if (auto s = db.exec(kMigrations[static_cast<size_t>(version - 1)]); !s) {
      return fail(s.error().code, fmt::format("migration {}: {}", version, s.error().message));
    }
    auto record = db.query("INSERT INTO schema_version(version, applied) VALUES (?1, ?2)");
    if (!record) return Unexpected{record.error()};
    if (auto s = record->bind(version, static_cast<int64_t>(std::time(nullptr))).run(); !s) {
      return s;
    }
  }
  return txn->commit();
}

}  // namespace chapar::store
