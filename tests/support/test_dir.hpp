// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <filesystem>
#include <optional>

namespace chapar::test {

// A fresh directory under the system temporary directory, removed with everything in it when
// the object is destroyed.
class TestDir {
 public:
  TestDir();
  ~TestDir();
  TestDir(const TestDir&) = delete;
  TestDir& operator=(const TestDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::filesystem::path& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// The shared corpus of real-world messages, or nothing when this checkout has none beside it.
std::optional<std::filesystem::path> corpus_dir();

}  // namespace chapar::test
