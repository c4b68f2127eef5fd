// SPDX-License-Identifier: AGPL-3.0-or-later
// The DNS records a new mail domain needs, in zone-file form (RFC 1035 §5.1), with absolute
// names so that they can be pasted into any zone: MX, SPF, DMARC, DKIM and the SRV records
// by which mail clients find the servers (RFC 6186, updated by RFC 8314 §5.1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.hpp"

namespace chapar::ctl {

// One RFC 6186 service: "_imaps._tcp" and so on. A service not offered is published with
// the target "." (RFC 6186 §3.3), so that clients do not guess.
struct SrvService {
  std::string label;  // "_submissions._tcp"
  uint16_t port = 0;  // 0 when not offered
  uint16_t priority = 0;
  bool offered() const { return port != 0; }
};

// The six services of RFC 6186 and RFC 8314 as `config` offers them: a listener of that name
// on an address other clients can reach. Implicit TLS comes before STARTTLS (RFC 8314
// §4.5.2) and IMAP before POP3, by priority (RFC 6186 §3.4: lower is preferred).
std::vector<SrvService> srv_services(const config::Config& config);

struct DkimPublicKey {
  std::string selector;
  std::string record;  // the TXT value: "v=DKIM1; k=rsa; p=..."
};

struct ZonePlan {
  std::string domain;    // "example.org"
  std::string hostname;  // "mail.example.org"
  std::vector<SrvService> services;
  std::vector<DkimPublicKey> dkim;
  std::string dkim_note;  // said in a comment when there is no DKIM record
};

// The records with a comment before each group saying what it is for.
std::string render_zone(const ZonePlan& plan);

// A TXT value as one or more quoted character-strings of at most 255 octets
// (RFC 1035 §3.3.14; RFC 6376 §3.6.2.2 concatenates them).
std::string txt_strings(std::string_view value);

}  // namespace chapar::ctl
