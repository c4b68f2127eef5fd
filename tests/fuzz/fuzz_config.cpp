// SPDX-License-Identifier: AGPL-3.0-or-later
// The configuration loader: any text must give either a Config or an error naming the file,
// never a crash. Host:port values are parsed on their own too.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "common/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chapar;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = config::parse(text, "/fuzz/chapar.toml");
  if (!parsed && parsed.error().message.find("/fuzz/chapar.toml") == std::string::npos) {
    std::fprintf(stderr, "broken promise: an error names the file: %s\n",
                 parsed.error().message.c_str());
    std::abort();
  }
  (void)config::parse_host_port(text.substr(0, 300), 25);
  return 0;
}
