// SPDX-License-Identifier: AGPL-3.0-or-later
// chaparctl quickstart --domain D [--hostname H]: a fresh installation made ready for mail to
// D served by the host H. Points server.hostname (and Let's Encrypt certificate paths) at H,
// creates the store if there is none, adds the domain and the account postmaster@D with a
// random password printed once (RFC 5321 §4.5.1 requires postmaster), makes a DKIM key
// when this build can, and prints every DNS record to publish. Run as root, it switches to
// server.user after editing the configuration. Running it again changes nothing that
// exists and prints the records again.
#pragma once

#include "chaparctl/context.hpp"
#include "common/result.hpp"

namespace chapar::ctl {

Status cmd_quickstart(Context& ctx);

}  // namespace chapar::ctl
