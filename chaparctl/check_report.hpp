// SPDX-License-Identifier: AGPL-3.0-or-later
// What `chaparctl check` found: lines saying what is in order, and problems, each one line
// that says what is wrong and what to do about it.
#pragma once

#include <string>
#include <vector>

namespace chapar::ctl {

struct CheckReport {
  std::vector<std::string> lines;  // in the order found, "ok: ..." or "problem: ..."
  size_t problems = 0;

  void ok(std::string text) { lines.push_back("ok: " + std::move(text)); }
  void note(std::string text) { lines.push_back("note: " + std::move(text)); }
  void problem(std::string text) {
    lines.push_back("problem: " + std::move(text));
    ++problems;
  }
};

}  // namespace chapar::ctl
