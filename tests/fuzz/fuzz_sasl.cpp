// SPDX-License-Identifier: AGPL-3.0-or-later
// SASL PLAIN and LOGIN as the three daemons run them: an optional initial response, then
// client lines answering challenges, until the exchange is done or fails. Lines are the
// input split at LF.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "common/auth/sasl.hpp"
#include "tests/fuzz/fuzz_promise.hpp"

namespace {

using namespace chapar;

using fuzz::require;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint8_t mode = data[0];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  std::string_view name = (mode & 1) ? std::string_view("login") : std::string_view("PLAIN");
  auto mechanism = auth::parse_sasl_mechanism(name);
  require(mechanism.has_value(), "PLAIN and LOGIN are known mechanisms");
  (void)auth::parse_sasl_mechanism(input.substr(0, input.find('\n')));

  auto next_line = [&input]() {
    size_t end = input.find('\n');
    std::string_view line = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    return line;
  };

  auth::SaslServer server(*mechanism);
  std::optional<std::string_view> initial;
  if (mode & 2) initial = next_line();
  auth::SaslStep step = server.start(initial);
  int steps = 0;
  while (step.kind == auth::SaslStep::Kind::kChallenge && !input.empty()) {
    require(++steps <= 3, "PLAIN and LOGIN end within three client lines");
    step = server.respond(next_line());
  }
  if (step.kind != auth::SaslStep::Kind::kChallenge) {
    auth::SaslStep after = server.respond("dXNlcg==");
    require(after.kind == auth::SaslStep::Kind::kFailed, "nothing follows the end");
  }
  return 0;
}
