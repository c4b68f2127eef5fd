// SPDX-License-Identifier: AGPL-3.0-or-later
// The store check of `chaparctl check`, as the user running it (server.user when it runs as
// root): the database exists and is writable, as are the directories beside it, and its
// schema is one this build knows. Nothing is changed: no migration runs.
#pragma once

#include <filesystem>
#include <string_view>

#include "chaparctl/check_report.hpp"

namespace chapar::ctl {

void check_store(const std::filesystem::path& data_dir, std::string_view reader,
                 CheckReport& report);

}  // namespace chapar::ctl
