// SPDX-License-Identifier: AGPL-3.0-or-later
// Change announcements between processes: every listener binds an AF_UNIX datagram socket
// in the data directory's run/ folder; after each commit the writer sends one line per
// changed mailbox, "MAILBOX MODSEQ\n", to every socket there. Datagrams are best effort: a
// receiver treats one as "look again", so a lost or duplicated one costs nothing but a
// query, and the sender never blocks on a slow receiver.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"
#include "libmailstore/types.hpp"

namespace chapar::store {

// Largest datagram the writer sends; more changes go in further datagrams.
inline constexpr size_t kMaxAnnouncement = 4096;

// The sending side: one unbound datagram socket and the listener sockets of one run
// directory. The directory is not read for every announcement: the list of sockets is kept
// and read again when the directory's mtime differs from the one seen at the last reading
// (a listener bound or removed since), when a send found a socket gone, and at least every
// kRescanInterval. A change in the same clock tick as a reading leaves the mtime as it was,
// so while the mtime is younger than kRacyWindow every send reads the directory again. A
// listener bound before a send therefore receives it, as when the directory was read each
// time. Used by one thread at a time (the writer's).
class Announcer {
 public:
  static constexpr std::chrono::seconds kRescanInterval{5};
  static constexpr std::chrono::seconds kRacyWindow{1};

  explicit Announcer(std::filesystem::path run_dir);
  ~Announcer();
  Announcer(const Announcer&) = delete;
  Announcer& operator=(const Announcer&) = delete;

  // Sends `changes` to every listener, removing sockets nobody listens on any more
  // (ECONNREFUSED: their process is gone).
  void send(const std::map<MailboxId, ModSeq>& changes);

  // How often the directory has been read so far.
  uint64_t scans() const { return scans_; }

 private:
  bool needs_scan() const;
  void scan();

  std::filesystem::path run_dir_;
  int fd_ = -1;
  std::vector<std::string> sockets_;  // paths of the *.sock files at the last reading
  bool scanned_ = false;
  bool rescan_ = false;  // the last reading may have missed a change, or a socket went
  timespec mtime_{};     // the directory's mtime at the last reading
  std::chrono::steady_clock::time_point scanned_at_;
  uint64_t scans_ = 0;
};

// Parses one datagram into (mailbox, modseq) pairs, skipping malformed lines.
std::vector<std::pair<MailboxId, ModSeq>> parse_announcement(std::string_view datagram);

// Binds a non-blocking datagram socket at a fresh name (pid + random) in `run_dir`.
// On success returns the descriptor and sets `path`.
Result<int> bind_listener(const std::filesystem::path& run_dir, std::filesystem::path& path);

}  // namespace chapar::store
