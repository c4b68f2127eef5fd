// SPDX-License-Identifier: AGPL-3.0-or-later
// Session tests and fuzz targets run on a real store built once (the template) and copied
// fresh for each run, so that a run sees the same accounts and messages however many ran
// before it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "libmailstore/store.hpp"

namespace chapar::test {

// 2024-03-01 12:00:00 UTC: the internal date of the template's messages.
inline constexpr int64_t kTemplateDate = 1709294400;

// SHA-256-crypt with the fewest rounds allowed: a real scheme of verify_password, the same
// path as yescrypt, fast enough for thousands of logins.
Result<std::string> quick_hash(const char* password);

// Creates the template store in `dir` and lets `fill` add its domains, accounts and
// messages. The store is closed before this returns, which folds its write-ahead log into
// the database file: that file is all a copy needs.
Status make_template(const std::filesystem::path& dir,
                     const std::function<Status(store::Store&)>& fill);

// Replaces `data_dir` with a copy of the template in `template_dir` and opens the copy.
Result<std::unique_ptr<store::Store>> open_copy(const std::filesystem::path& template_dir,
                                                const std::filesystem::path& data_dir);

// Delivers `content` into the INBOX of `account`, as chapar-smtpd would.
Status deliver(store::Store& store, store::AccountId account, std::string content);

}  // namespace chapar::test
