// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/password_input.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace chapar::ctl {
namespace {

Status check_password(std::string_view password) {
  if (password.empty()) return fail(Errc::kInvalidArgument, "empty password");
  if (password.size() > kMaxPasswordLength) {
    return fail(Errc::kInvalidArgument,
                fmt::format("password longer than {} bytes", kMaxPasswordLength));
  }
  if (password.find('\0') != std::string_view::npos) {
    return fail(Errc::kInvalidArgument, "password contains a NUL byte");
  }
  return {};
}

// The terminal, with echo switched off for as long as this object lives.
class Terminal {
 public:
  Terminal() {
    fd_ = ::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd_ < 0) return;
    if (::tcgetattr(fd_, &saved_) == 0) {
      termios quiet = saved_;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      quiet.c_lflag |= ECHONL;
      restore_ = ::tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
    }
  }
  ~Terminal() {
    if (restore_) ::tcsetattr(fd_, TCSAFLUSH, &saved_);
    if (fd_ >= 0) ::close(fd_);
  }
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  bool usable() const { return fd_ >= 0 && restore_; }

  Result<std::string> ask(std::string_view prompt) {
    if (::write(fd_, prompt.data(), prompt.size()) < 0) {
      return fail(Errc::kIo, fmt::format("cannot write to the terminal: {}", std::strerror(errno)));
    }
    std::string line;
    char c = 0;
    while (true) {
      ssize_t n = ::read(fd_, &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        return fail(Errc::kIo, fmt::format("cannot read the terminal: {}", std::strerror(errno)));
      }
      if (n == 0 || c == '\n') break;
      if (line.size() > kMaxPasswordLength) continue;  // reported by check_password
      line.push_back(c);
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }

 private:
  int fd_ = -1;
  termios saved_{};
  bool restore_ = false;
};

}  // namespace

Result<std::string> read_password_line(std::istream& in) {
  std::string line;
  if (!std::getline(in, line)) {
    return fail(Errc::kInvalidArgument, "no password on standard input");
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (Status ok = check_password(line); !ok) return fail(ok.error().code, ok.error().message);
  return line;
}

Result<std::string> prompt_new_password(std::string_view address) {
  Terminal terminal;
  if (!terminal.usable()) {
    return fail(Errc::kInvalidArgument,
                "no terminal to ask for the password on; give it with --password-stdin");
  }
  auto first = terminal.ask(fmt::format("New password for {}: ", address));
  if (!first) return first;
  if (Status ok = check_password(*first); !ok) return fail(ok.error().code, ok.error().message);
  auto second = terminal.ask("Retype the password: ");
  if (!second) return second;
  if (*first != *second) return fail(Errc::kInvalidArgument, "the passwords do not match");
  return first;
}

Result<std::string> read_new_password(const Context& ctx, std::string_view address) {
  if (ctx.flag("password-stdin")) return read_password_line(ctx.io.in);
  return prompt_new_password(address);
}

}  // namespace chapar::ctl
