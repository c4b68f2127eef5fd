// SPDX-License-Identifier: AGPL-3.0-or-later
#include "libmailstore/spool.hpp"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstring>
#include <limits>

namespace chapar::store {

namespace {

Error io_error(std::string_view what) {
  return Error{Errc::kIo, fmt::format("spool {}: {}", what, std::strerror(errno))};
}

// An anonymous file in `dir`: O_TMPFILE where the file system has it, otherwise a named
// temporary file unlinked at once. Either way it disappears with its last descriptor.
int open_anonymous(const std::filesystem::path& dir) {
  int fd = open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)) return fd;
  std::string pattern = (dir / "spool-XXXXXX").string();
  fd = mkostemp(pattern.data(), O_CLOEXEC);
  if (fd >= 0) unlink(pattern.c_str());
  return fd;
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

Spool::Spool(std::filesystem::path temp_dir, size_t memory_limit)
    : temp_dir_(std::move(temp_dir)), memory_limit_(memory_limit) {}

Spool::~Spool() {
  if (map_ != nullptr) munmap(map_, size_);
  if (fd_ >= 0) close(fd_);
}

Status Spool::append(std::string_view bytes) {
  if (finished_) return fail(Errc::kInvalidArgument, "spool already finished");
  if (bytes.empty()) return {};
  if (fd_ < 0 && memory_.size() + bytes.size() <= memory_limit_) {
    memory_.append(bytes);
    size_ += bytes.size();
    return {};
  }
  if (fd_ < 0) {
    fd_ = open_anonymous(temp_dir_);
    if (fd_ < 0) return Unexpected{io_error(fmt::format("open in {}", temp_dir_.string()))};
    if (!write_all(fd_, memory_)) return Unexpected{io_error("write")};
    std::string().swap(memory_);
  }
  if (!write_all(fd_, bytes)) return Unexpected{io_error("write")};
  size_ += bytes.size();
  return {};
}

Status Spool::finish() {
  if (finished_) return {};
  if (fd_ >= 0 && size_ > 0) {
    void* map = mmap(nullptr, size_, PROT_READ, MAP_SHARED, fd_, 0);
    if (map == MAP_FAILED) return Unexpected{io_error("mmap")};
    map_ = map;
    // The content is read once, front to back, when it is stored.
    madvise(map_, size_, MADV_SEQUENTIAL);
  }
  finished_ = true;
  return {};
}

std::string_view Spool::view() const {
  if (map_ != nullptr) return std::string_view(static_cast<const char*>(map_), size_);
  if (fd_ >= 0) return {};
  return memory_;
}

std::shared_ptr<Spool> Spool::from_string(std::string content) {
  // No temporary directory: whatever is derived from it stays in memory too.
  auto spool = std::make_shared<Spool>(std::filesystem::path(), std::numeric_limits<size_t>::max());
  spool->size_ = content.size();
  spool->memory_ = std::move(content);
  spool->finished_ = true;
  return spool;
}

}  // namespace chapar::store
