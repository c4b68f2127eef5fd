// SPDX-License-Identifier: AGPL-3.0-or-later
// Message content as it arrives (SMTP DATA/BDAT, IMAP APPEND literal): kept in memory up to
// a threshold and moved to an unlinked temporary file beyond it, so a 50 MB message never
// sits whole on the heap. Once finished, the content is read through view(), which maps the
// file when there is one.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace chapar::store {

class Spool {
 public:
  static constexpr size_t kDefaultMemoryLimit = 1024 * 1024;

  // `temp_dir` is where content beyond `memory_limit` goes (the data directory's tmp/), in
  // a file that has no name and vanishes with the Spool.
  Spool(std::filesystem::path temp_dir, size_t memory_limit = kDefaultMemoryLimit);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  Status append(std::string_view bytes);
  // No more appends; makes view() valid.
  Status finish();

  size_t size() const { return size_; }
  bool finished() const { return finished_; }
  // Whether the content went to a temporary file.
  bool on_disk() const { return fd_ >= 0; }
  // The whole content; valid after finish() for the life of the Spool.
  std::string_view view() const;

  const std::filesystem::path& temp_dir() const { return temp_dir_; }
  size_t memory_limit() const { return memory_limit_; }

  // Convenience for small content already in memory (tests, bounces, chaparctl): a
  // finished Spool without a temporary directory and without a memory limit.
  static std::shared_ptr<Spool> from_string(std::string content);

 private:
  std::filesystem::path temp_dir_;
  size_t memory_limit_;
  std::string memory_;
  int fd_ = -1;
  void* map_ = nullptr;
  size_t size_ = 0;
  bool finished_ = false;
};

}  // namespace chapar::store
