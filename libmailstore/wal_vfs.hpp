// SPDX-License-Identifier: AGPL-3.0-or-later
// The store's SQLite VFS: the platform's own, except that a WAL file is lengthened in chunks
// of zeros written ahead of SQLite's frames. A commit that appends to a file must also sync
// the file system's journal (the file's length changed); a commit that overwrites blocks
// already written syncs only its data, which on ext4 costs several times less. Once a WAL
// has reached the length it keeps between checkpoints SQLite overwrites it anyway; the
// chunks spare a new or restarted store its first WAL's worth of appending commits.
//
// Zeros past the last frame are no different to SQLite from the stale frames it leaves
// there itself after restarting a WAL: a frame counts only if it carries the salts of the
// WAL's header and a checksum chained from the frame before it.
#pragma once

#include <cstdint>

namespace chapar::store {

// The WAL grows by this much at a time.
inline constexpr int64_t kWalChunk = int64_t{1} << 20;

// The VFS name to open the store with; the VFS is registered on the first call.
const char* wal_chunk_vfs();

}  // namespace chapar::store
