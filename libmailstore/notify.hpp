// SPDX-License-Identifier: AGPL-3.0-or-later
// Change announcements between processes: every listener binds an AF_UNIX datagram socket
// in the data directory's run/ folder; after each commit the writer sends one line per
// changed mailbox, "MAILBOX MODSEQ\n", to every socket there. Datagrams are best effort: a
// receiver treats one as "look again", so a lost or duplicated one costs nothing but a
// query, and the sender never blocks on a slow receiver.
#pragma once

#include <filesystem>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "libmailstore/types.hpp"

namespace chapar::store {

// Largest datagram the writer sends; more changes go in further datagrams.
inline constexpr size_t kMaxAnnouncement = 4096;

// Sends `changes` from the unbound socket `fd` to every *.sock in `run_dir`, removing
// sockets nobody listens on any more (ECONNREFUSED: their process is gone).
void send_changes(int fd, const std::filesystem::path& run_dir,
                  const std::map<MailboxId, ModSeq>& changes);

// Parses one datagram into (mailbox, modseq) pairs, skipping malformed lines.
std::vector<std::pair<MailboxId, ModSeq>> parse_announcement(std::string_view datagram);

// Binds a non-blocking datagram socket at a fresh name (pid + random) in `run_dir`.
// On success returns the descriptor and sets `path`.
Result<int> bind_listener(const std::filesystem::path& run_dir, std::filesystem::path& path);

}  // namespace chapar::store
