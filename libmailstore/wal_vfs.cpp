// SPDX-License-Identifier: AGPL-3.0-or-later
#include "libmailstore/wal_vfs.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <new>

namespace chapar::store {
namespace {

// What a WAL file's handle carries after the platform VFS's own file structure. The file's
// methods are the platform's, with xWrite and xTruncate in front of theirs.
struct WalFile {
  sqlite3_io_methods methods;
  const sqlite3_io_methods* platform = nullptr;
  // The file is known to be at least this long; 0 after a truncation (ask the file again).
  sqlite3_int64 known_length = 0;
};

sqlite3_vfs* platform_vfs = nullptr;
sqlite3_vfs chunk_vfs;

size_t wal_file_offset() {
  size_t align = alignof(WalFile);
  return (static_cast<size_t>(platform_vfs->szOsFile) + align - 1) / align * align;
}

WalFile& wal_file(sqlite3_file* file) {
  return *std::launder(
      reinterpret_cast<WalFile*>(reinterpret_cast<char*>(file) + wal_file_offset()));
}

// Writes zeros over [from, to). A failure is left for SQLite's own write to meet (a full
// disk), or not at all: zeros the file does not get are only appends later.
void write_zeros(sqlite3_file* file, const WalFile& wal, sqlite3_int64 from, sqlite3_int64 to) {
  static const std::array<char, 64 * 1024> zeros{};
  while (from < to) {
    auto amount = static_cast<int>(std::min<sqlite3_int64>(zeros.size(), to - from));
    if (wal.platform->xWrite(file, zeros.data(), amount, from) != SQLITE_OK) return;
    from += amount;
  }
}

int write_wal(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  WalFile& wal = wal_file(file);
  sqlite3_int64 end = offset + amount;
  if (end > wal.known_length) {
    sqlite3_int64 length = 0;
    if (wal.platform->xFileSize(file, &length) == SQLITE_OK && end > length) {
      // Only past the file's end, where no frame is, and only by the connection that holds
      // the WAL's write lock (SQLite writes a WAL under it).
      write_zeros(file, wal, length, (end + kWalChunk - 1) / kWalChunk * kWalChunk);
      (void)wal.platform->xFileSize(file, &length);
    }
    wal.known_length = length;
  }
  return wal.platform->xWrite(file, data, amount, offset);
}

int truncate_wal(sqlite3_file* file, sqlite3_int64 size) {
  WalFile& wal = wal_file(file);
  wal.known_length = 0;
  return wal.platform->xTruncate(file, size);
}

int open_file(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  int rc = platform_vfs->xOpen(platform_vfs, name, file, flags, out_flags);
  if (rc != SQLITE_OK || file->pMethods == nullptr || (flags & SQLITE_OPEN_WAL) == 0) return rc;
  auto* wal = new (reinterpret_cast<char*>(file) + wal_file_offset()) WalFile;
  wal->platform = file->pMethods;
  wal->methods = *file->pMethods;
  wal->methods.xWrite = write_wal;
  wal->methods.xTruncate = truncate_wal;
  file->pMethods = &wal->methods;
  return rc;
}

}  // namespace

const char* wal_chunk_vfs() {
  static std::once_flag registered;
  std::call_once(registered, [] {
    platform_vfs = sqlite3_vfs_find(nullptr);
    chunk_vfs = *platform_vfs;
    chunk_vfs.pNext = nullptr;
    chunk_vfs.zName = "chapar-wal-chunks";
    chunk_vfs.szOsFile = static_cast<int>(wal_file_offset() + sizeof(WalFile));
    chunk_vfs.xOpen = open_file;
    sqlite3_vfs_register(&chunk_vfs, 0);
  });
  return chunk_vfs.zName;
}

}  // namespace chapar::store
