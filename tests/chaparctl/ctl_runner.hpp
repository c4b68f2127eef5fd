// SPDX-License-Identifier: AGPL-3.0-or-later
// Runs chaparctl's entry point in-process with string streams.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "chaparctl/commands.hpp"

namespace chapar::ctl::test {

struct CtlOutput {
  int status = -1;
  std::string out;
  std::string err;
};

inline CtlOutput run_ctl(const std::vector<std::string>& argv, const std::string& input = "") {
  std::istringstream in(input);
  std::ostringstream out;
  std::ostringstream err;
  Io io{in, out, err};
  CtlOutput result;
  result.status = run(argv, io);
  result.out = out.str();
  result.err = err.str();
  return result;
}

// An error report is exactly one line starting with "chaparctl: ".
inline bool is_one_error_line(const std::string& err) {
  return err.rfind("chaparctl: ", 0) == 0 && err.size() > 12 && err.back() == '\n' &&
         err.find('\n') == err.size() - 1;
}

}  // namespace chapar::ctl::test
