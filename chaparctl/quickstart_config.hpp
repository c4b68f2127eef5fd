// SPDX-License-Identifier: AGPL-3.0-or-later
// Pointing a configuration file at a host name, for quickstart: `hostname` in [server] is
// set, and certificate and key paths in the Let's Encrypt layout
// (/etc/letsencrypt/live/NAME/...) follow. Everything else in the file, comments included,
// stays as it is.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace chapar::ctl {

// The text with server.hostname set to `hostname`. Fails when the result would not load.
Result<std::string> retarget_config(std::string_view text, std::string_view hostname,
                                    const std::filesystem::path& path);

// Replaces the file with `text` atomically (a temporary file renamed over it), keeping its
// mode and owner.
Status replace_file(const std::filesystem::path& path, std::string_view text);

}  // namespace chapar::ctl
