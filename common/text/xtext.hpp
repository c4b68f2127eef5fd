// SPDX-License-Identifier: AGPL-3.0-or-later
// xtext (RFC 3461 §4): the encoding of the ORCPT and ENVID parameters of SMTP DSN.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace chapar::text {

// Characters '!'..'~' other than '+' and '=' stay; every other octet becomes "+HH".
std::string xtext_encode(std::string_view data);

// Decodes "+HH" escapes (upper-case hex per the RFC; lower case is accepted too). Fails with
// kInvalidArgument on a bare '+', a bad escape, '=', or an octet outside '!'..'~'.
Result<std::string> xtext_decode(std::string_view text);

}  // namespace chapar::text
