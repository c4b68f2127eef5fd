// SPDX-License-Identifier: AGPL-3.0-or-later
// chaparctl dkim generate: a DKIM key for a hosted domain (RFC 6376; Ed25519 per RFC 8463)
// and the DNS record that publishes it. The key goes where chapar-smtpd's signer looks:
//   DATA_DIR/dkim/<domain>.<selector>.key   (PEM, PKCS #8, mode 0600)
//   DATA_DIR/dkim/<domain>.selector         (the selectors to sign with, one per line)
// The new selector is added to the selector file, so mail is signed with it from the next
// message on; publish the record first, or remove the line until it is published.
#pragma once

#include <string>
#include <string_view>

#include "chaparctl/context.hpp"
#include "common/result.hpp"

namespace chapar::ctl {

Status cmd_dkim_generate(Context& ctx);

// The TXT record for a public key: `selector._domainkey.domain. IN TXT (...)`, its text split
// into strings of at most 255 octets (RFC 1035 §3.3.14).
std::string dkim_dns_record(std::string_view domain, std::string_view selector,
                            std::string_view key_type, std::string_view public_key_base64);

}  // namespace chapar::ctl
