// SPDX-License-Identifier: AGPL-3.0-or-later
#include "libmailstore/notify.hpp"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <random>
#include <string>
#include <system_error>
#include <utility>

#include "libmailstore/store.hpp"

namespace chapar::store {

namespace {

bool make_address(const std::string& text, sockaddr_un& address, socklen_t& length) {
  if (text.size() >= sizeof(address.sun_path)) return false;
  std::memset(&address, 0, sizeof(address));
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, text.data(), text.size());
  length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + text.size() + 1);
  return true;
}

std::vector<std::string> render(const std::map<MailboxId, ModSeq>& changes) {
  std::vector<std::string> datagrams(1);
  for (const auto& [mailbox, modseq] : changes) {
    std::string line = fmt::format("{} {}\n", mailbox, modseq);
    if (datagrams.back().size() + line.size() > kMaxAnnouncement) datagrams.emplace_back();
    datagrams.back() += line;
  }
  return datagrams;
}

}  // namespace

Announcer::Announcer(std::filesystem::path run_dir)
    : run_dir_(std::move(run_dir)),
      fd_(socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) {}

Announcer::~Announcer() {
  if (fd_ >= 0) close(fd_);
}

bool Announcer::needs_scan() const {
  if (!scanned_ || rescan_) return true;
  if (std::chrono::steady_clock::now() - scanned_at_ >= kRescanInterval) return true;
  struct stat st;
  if (stat(run_dir_.c_str(), &st) != 0) return true;
  return st.st_mtim.tv_sec != mtime_.tv_sec || st.st_mtim.tv_nsec != mtime_.tv_nsec;
}

void Announcer::scan() {
  ++scans_;
  scanned_ = true;
  scanned_at_ = std::chrono::steady_clock::now();
  sockets_.clear();
  // The mtime is taken before the listing: a change after it shows as a newer mtime.
  struct stat st;
  if (stat(run_dir_.c_str(), &st) != 0) {
    rescan_ = true;
    return;
  }
  mtime_ = st.st_mtim;
  std::error_code ec;
  for (const auto& item : std::filesystem::directory_iterator(run_dir_, ec)) {
    if (item.path().extension() == ".sock") sockets_.push_back(item.path().native());
  }
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  auto age = std::chrono::seconds(now.tv_sec - mtime_.tv_sec) +
             std::chrono::nanoseconds(now.tv_nsec - mtime_.tv_nsec);
  rescan_ = ec || age < kRacyWindow;
}

void Announcer::send(const std::map<MailboxId, ModSeq>& changes) {
  if (changes.empty() || fd_ < 0) return;
  if (needs_scan()) scan();
  auto datagrams = render(changes);
  bool gone = false;
  for (auto& path : sockets_) {
    sockaddr_un address;
    socklen_t length = 0;
    if (!make_address(path, address, length)) continue;
    for (const auto& datagram : datagrams) {
      ssize_t n;
      do {
        n = sendto(fd_, datagram.data(), datagram.size(), MSG_DONTWAIT | MSG_NOSIGNAL,
                   reinterpret_cast<const sockaddr*>(&address), length);
      } while (n < 0 && errno == EINTR);
      if (n < 0 && (errno == ECONNREFUSED || errno == ENOENT)) {
        // ECONNREFUSED: nobody is bound there any more, its process died without cleaning
        // up. ENOENT: its listener closed and removed it.
        if (errno == ECONNREFUSED) {
          std::error_code ignored;
          std::filesystem::remove(path, ignored);
        }
        path.clear();
        gone = true;
        break;
      }
      // EAGAIN (the receiver's queue is full) and other errors drop the datagram: the
      // receiver's periodic re-check covers it.
      if (n < 0) break;
    }
  }
  if (gone) {
    std::erase_if(sockets_, [](const std::string& path) { return path.empty(); });
    rescan_ = true;
  }
}

std::vector<std::pair<MailboxId, ModSeq>> parse_announcement(std::string_view datagram) {
  std::vector<std::pair<MailboxId, ModSeq>> out;
  while (!datagram.empty()) {
    size_t end = datagram.find('\n');
    std::string_view line = datagram.substr(0, end);
    datagram.remove_prefix(end == std::string_view::npos ? datagram.size() : end + 1);
    size_t space = line.find(' ');
    if (space == std::string_view::npos) continue;
    MailboxId mailbox = 0;
    ModSeq modseq = 0;
    auto a = std::from_chars(line.data(), line.data() + space, mailbox);
    auto b = std::from_chars(line.data() + space + 1, line.data() + line.size(), modseq);
    if (a.ec != std::errc() || a.ptr != line.data() + space) continue;
    if (b.ec != std::errc() || b.ptr != line.data() + line.size()) continue;
    out.emplace_back(mailbox, modseq);
  }
  return out;
}

Result<int> bind_listener(const std::filesystem::path& run_dir, std::filesystem::path& path) {
  std::random_device random;
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto candidate = run_dir / fmt::format("{}-{:08x}.sock", getpid(), random());
    sockaddr_un address;
    socklen_t length = 0;
    if (!make_address(candidate.native(), address, length)) {
      return fail(Errc::kInvalidArgument,
                  fmt::format("socket path too long: {}", candidate.string()));
    }
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail(Errc::kIo, fmt::format("socket: {}", std::strerror(errno)));
    if (bind(fd, reinterpret_cast<const sockaddr*>(&address), length) == 0) {
      path = candidate;
      return fd;
    }
    int error = errno;
    close(fd);
    if (error != EADDRINUSE) {
      return fail(Errc::kIo, fmt::format("bind {}: {}", candidate.string(), std::strerror(error)));
    }
  }
  return fail(Errc::kIo, "no free listener name");
}

// --- Store::ChangeListener ---

Store::ChangeListener::~ChangeListener() {
  if (fd_ >= 0) close(fd_);
  if (!path_.empty()) {
    std::error_code ignored;
    std::filesystem::remove(path_, ignored);
  }
}

std::vector<MailboxId> Store::ChangeListener::drain() {
  std::vector<MailboxId> out;
  for (const auto& [mailbox, modseq] : drain_changes()) out.push_back(mailbox);
  return out;
}

std::vector<std::pair<MailboxId, ModSeq>> Store::ChangeListener::drain_changes() {
  std::map<MailboxId, ModSeq> latest;
  char buffer[kMaxAnnouncement + 1];
  for (;;) {
    ssize_t n = recv(fd_, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (const auto& [mailbox, modseq] :
         parse_announcement(std::string_view(buffer, static_cast<size_t>(n)))) {
      auto& slot = latest[mailbox];
      slot = std::max(slot, modseq);
    }
  }
  return {latest.begin(), latest.end()};
}

}  // namespace chapar::store
