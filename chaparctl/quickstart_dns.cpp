// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/quickstart_dns.hpp"

#include <fmt/format.h>

namespace chapar::ctl {
namespace {

constexpr int kTtl = 3600;
constexpr size_t kMaxCharacterString = 255;  // RFC 1035 §3.3

struct ServiceSpec {
  std::string_view label;
  std::string_view listener;  // the listener name that provides it
  uint16_t priority;
};

// RFC 8314 §4.5.2: implicit TLS in preference to STARTTLS; RFC 6186 §3.4: one priority
// order across IMAP and POP3, where we prefer IMAP.
constexpr ServiceSpec kServices[] = {
    {"_submissions._tcp", "submissions", 0},
    {"_submission._tcp", "submission", 10},
    {"_imaps._tcp", "imaps", 0},
    {"_imap._tcp", "imap", 10},
    {"_pop3s._tcp", "pop3s", 20},
    {"_pop3._tcp", "pop3", 30},
};

bool reachable_from_outside(std::string_view address) {
  return !(address.starts_with("127.") || address == "::1" || address == "localhost");
}

uint16_t offered_port(const std::vector<config::Listener>& listeners, std::string_view name) {
  for (const config::Listener& listener : listeners) {
    if (listener.name == name && listener.port != 0 && reachable_from_outside(listener.address)) {
      return listener.port;
    }
  }
  return 0;
}

std::string absolute(std::string_view name) {
  return fmt::format("{}.", name);
}

void line(std::string& out, std::string_view owner, std::string_view type, std::string_view data) {
  out += fmt::format("{:<40} {} IN {:<5} {}\n", owner, kTtl, type, data);
}

}  // namespace

std::vector<SrvService> srv_services(const config::Config& config) {
  std::vector<SrvService> out;
  for (const ServiceSpec& spec : kServices) {
    const auto& listeners = spec.listener.starts_with("submission") ? config.smtpd.listeners
                            : spec.listener.starts_with("imap")     ? config.imapd.listeners
                                                                    : config.pop3d.listeners;
    out.push_back({std::string(spec.label), offered_port(listeners, spec.listener), spec.priority});
  }
  return out;
}

std::string txt_strings(std::string_view value) {
  std::string out;
  do {
    std::string_view piece = value.substr(0, kMaxCharacterString);
    value.remove_prefix(piece.size());
    if (!out.empty()) out += ' ';
    out += '"';
    for (char c : piece) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  } while (!value.empty());
  return out;
}

std::string render_zone(const ZonePlan& plan) {
  const std::string domain = absolute(plan.domain);
  const std::string host = absolute(plan.hostname);
  std::string out =
      fmt::format("; DNS records for {}, whose mail is served by {}\n", plan.domain, plan.hostname);
  out += fmt::format(
      "; {} itself needs A and/or AAAA records with this server's public addresses, and\n"
      "; each of those addresses a PTR record naming {} (set by the hosting provider).\n",
      host, host);

  out += "\n; Mail for the domain goes to this host (RFC 5321 §5.1).\n";
  line(out, domain, "MX", fmt::format("10 {}", host));

  out += "\n; SPF (RFC 7208): only the domain's MX hosts send its mail.\n";
  line(out, domain, "TXT", txt_strings("v=spf1 mx -all"));

  out +=
      "\n; DMARC (RFC 7489): mail failing SPF and DKIM alignment is quarantined; reports\n"
      "; go to the postmaster.\n";
  line(out, absolute("_dmarc." + plan.domain), "TXT",
       txt_strings(fmt::format("v=DMARC1; p=quarantine; rua=mailto:postmaster@{}", plan.domain)));

  out += "\n; DKIM (RFC 6376): the public keys outgoing mail is signed with.\n";
  if (plan.dkim.empty()) {
    out += fmt::format("; none: {}\n", plan.dkim_note);
  }
  for (const DkimPublicKey& key : plan.dkim) {
    line(out, absolute(fmt::format("{}._domainkey.{}", key.selector, plan.domain)), "TXT",
         txt_strings(key.record));
  }

  out +=
      "\n; Mail client configuration (RFC 6186, RFC 8314 §5.1): implicit TLS is preferred;\n"
      "; a target of \".\" says the service is not offered.\n";
  for (const SrvService& service : plan.services) {
    std::string owner = absolute(fmt::format("{}.{}", service.label, plan.domain));
    line(out, owner, "SRV",
         service.offered() ? fmt::format("{} 1 {} {}", service.priority, service.port, host)
                           : std::string("0 0 0 ."));
  }
  return out;
}

}  // namespace chapar::ctl
