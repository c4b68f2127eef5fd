// SPDX-License-Identifier: AGPL-3.0-or-later
// The database schema as numbered migrations. Each migration runs once, in order, inside
// the transaction that records it in schema_version; a store opened by any daemon or by
// chaparctl brings the file up to date at start-up.
#pragma once

#include "common/result.hpp"
#include "libmailstore/database.hpp"

namespace chapar::store {

// The highest migration number this build knows.
int latest_schema_version();

// Applies the migrations newer than the file's version in one IMMEDIATE transaction.
// Refuses a file written by a newer build (kInvalidArgument).
Status migrate(Database& db);

}  // namespace chapar::store
