// SPDX-License-Identifier: AGPL-3.0-or-later
#include "tests/support/test_dir.hpp"

#include <stdlib.h>

#include <stdexcept>
#include <string>
#include <system_error>

namespace chapar::test {

TestDir::TestDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "chapar-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TestDir::~TestDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::optional<std::filesystem::path> corpus_dir() {
  std::filesystem::path dir = CHAPAR_CORPUS_DIR;
  if (std::filesystem::is_directory(dir / "open")) return dir;
  return std::nullopt;
}

}  // namespace chapar::test
