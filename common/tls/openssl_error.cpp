// SPDX-License-Identifier: AGPL-3.0-or-later
#include "common/tls/openssl_error.hpp"

#include <openssl/err.h>

namespace chapar::tls {

std::string drain_openssl_errors(std::string_view what) {
  std::string message(what);
  bool first = true;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    message += first ? ": " : "; ";
    message += buffer;
    first = false;
  }
  return message;
}

}  // namespace chapar::tls
