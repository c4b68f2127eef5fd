// SPDX-License-Identifier: AGPL-3.0-or-later
// The certificate check of `chaparctl check`: the files the daemons load at start-up and on
// SIGHUP, read as the user running the check (server.user when it runs as root).
#pragma once

#include <ctime>
#include <filesystem>
#include <string_view>

#include "chaparctl/check_report.hpp"

namespace chapar::ctl {

struct CertificateCheck {
  std::filesystem::path certificate;  // PEM chain, leaf first
  std::filesystem::path key;          // PEM private key
  std::string_view hostname;          // server.hostname: the leaf must be issued for it
  std::string_view reader;            // who reads the files, for messages ("user chapar")
  std::time_t now = 0;
  int warn_days = 14;  // a certificate expiring sooner is a problem
};

// Readable, parseable, valid at `now` and for more than warn_days, issued for the host name
// (RFC 6125 matching via X509_check_host), and matching the key.
void check_certificate(const CertificateCheck& check, CheckReport& report);

}  // namespace chapar::ctl
