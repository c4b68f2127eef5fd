// SPDX-License-Identifier: AGPL-3.0-or-later
// chaparctl: administration of a Chapar installation. See `chaparctl --help`.
#include <iostream>
#include <string>
#include <vector>

#include "chaparctl/commands.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  chapar::ctl::Io io{std::cin, std::cout, std::cerr};
  return chapar::ctl::run(args, io);
}
