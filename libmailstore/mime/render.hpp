// SPDX-License-Identifier: AGPL-3.0-or-later
// The FETCH attribute values ENVELOPE, BODY and BODYSTRUCTURE (RFC 9051 §7.5.2), written
// from a stored MessageStructure without looking at the message again.
#pragma once

#include <string>

#include "libmailstore/mime/structure.hpp"

namespace chapar::mime {

// "(date subject from sender reply-to to cc bcc in-reply-to message-id)". Sender and
// Reply-To default to From (RFC 9051 §7.5.2).
std::string render_envelope(const Envelope& envelope);

// The body structure of `part` and everything under it, in parentheses. With `extensible`
// it is BODYSTRUCTURE (with the extension data: MD5, disposition, language, location),
// without it BODY.
std::string render_bodystructure(const Part& part, bool extensible);

// The body structure of a whole message. A message that is one plain US-ASCII 7bit text
// part is written in its canonical form ("text" "plain" ("charset" "us-ascii") ... "7bit"),
// whatever case its header used.
std::string render_bodystructure(const MessageStructure& structure, bool extensible);

}  // namespace chapar::mime
