// SPDX-License-Identifier: AGPL-3.0-or-later
// The writer's announcer: which listeners a send reaches, and when it reads the run
// directory again.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "libmailstore/notify.hpp"
#include "tests/support/test_dir.hpp"

namespace chapar::store {
namespace {

// A bound listener socket in a run directory, closed and removed when it goes.
struct Listener {
  std::filesystem::path path;
  int fd = -1;

  explicit Listener(const std::filesystem::path& run_dir) {
    auto bound = bind_listener(run_dir, path);
    REQUIRE(bound);
    fd = *bound;
  }
  ~Listener() {
    if (fd >= 0) close(fd);
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }

  // Everything queued so far, concatenated.
  std::string received() {
    std::string out;
    char buffer[kMaxAnnouncement];
    for (;;) {
      ssize_t n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
      if (n <= 0) return out;
      out.append(buffer, static_cast<size_t>(n));
    }
  }
};

void set_mtime(const std::filesystem::path& dir, timespec mtime) {
  timespec times[2] = {mtime, mtime};
  REQUIRE(utimensat(AT_FDCWD, dir.c_str(), times, 0) == 0);
}

// Gives the directory an mtime well in the past, as it has between daemon starts.
void age_directory(const std::filesystem::path& dir) {
  set_mtime(dir, timespec{1000000000, 0});
}

const std::map<MailboxId, ModSeq> kChange = {{7, 3}};

TEST_CASE("announcer: the directory is read again only when it changed") {
  chapar::test::TestDir dir;
  auto run = dir / "run";
  std::filesystem::create_directories(run);
  Listener first(run);
  age_directory(run);

  Announcer announcer(run);
  announcer.send(kChange);
  announcer.send(kChange);
  announcer.send({{8, 1}});
  CHECK(announcer.scans() == 1);
  CHECK(first.received() == "7 3\n7 3\n8 1\n");

  // A daemon started later binds its socket: the next send reaches it.
  Listener second(run);
  announcer.send(kChange);
  CHECK(announcer.scans() == 2);
  CHECK(first.received() == "7 3\n");
  CHECK(second.received() == "7 3\n");
}

TEST_CASE("announcer: a listener bound in the same clock tick as a reading is not missed") {
  chapar::test::TestDir dir;
  auto run = dir / "run";
  std::filesystem::create_directories(run);
  Listener first(run);
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  set_mtime(run, now);
  Announcer announcer(run);
  announcer.send(kChange);
  Listener second(run);
  // A bind within the same clock tick leaves the mtime as the reading saw it.
  set_mtime(run, now);
  announcer.send(kChange);
  CHECK(announcer.scans() == 2);
  CHECK(second.received() == "7 3\n");
}

TEST_CASE("announcer: sends to a listener that went are dropped, and the rest still arrive") {
  chapar::test::TestDir dir;
  auto run = dir / "run";
  std::filesystem::create_directories(run);
  Listener stays(run);
  auto goes = std::make_unique<Listener>(run);
  age_directory(run);
  Announcer announcer(run);
  announcer.send(kChange);
  CHECK(goes->received() == "7 3\n");
  goes.reset();
  announcer.send(kChange);
  announcer.send(kChange);
  CHECK(stays.received() == "7 3\n7 3\n7 3\n");
}

TEST_CASE("announcer: a socket nobody is bound to is removed") {
  chapar::test::TestDir dir;
  auto run = dir / "run";
  std::filesystem::create_directories(run);
  std::filesystem::path stale;
  {
    Listener dead(run);
    stale = dead.path;
    close(dead.fd);
    dead.fd = -1;
    dead.path.clear();  // the file stays, as after a crash
  }
  REQUIRE(std::filesystem::exists(stale));
  Announcer announcer(run);
  announcer.send(kChange);
  CHECK_FALSE(std::filesystem::exists(stale));
}

}  // namespace
}  // namespace chapar::store
