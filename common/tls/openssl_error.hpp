// SPDX-License-Identifier: AGPL-3.0-or-later
// OpenSSL reports errors through a per-thread queue; this turns it into an Error.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace chapar::tls {

// Drains the calling thread's OpenSSL error queue into one line: "what: reason; reason".
std::string drain_openssl_errors(std::string_view what);

inline Unexpected openssl_failure(Errc code, std::string_view what) {
  return fail(code, drain_openssl_errors(what));
}

}  // namespace chapar::tls
