// SPDX-License-Identifier: AGPL-3.0-or-later
#include "chaparctl/quickstart_config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "chaparctl/initial_config.hpp"
#include "common/config.hpp"

namespace chapar::ctl {
namespace {

constexpr std::string_view kLetsEncryptLive = "/etc/letsencrypt/live/";

std::string_view trim_left(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t");
  return begin == std::string_view::npos ? std::string_view() : text.substr(begin);
}

// "[server]" → "server", "[[smtpd.listeners]]" → "[[smtpd.listeners"; "" for a line that is
// not a table header.
std::string table_name(std::string_view line) {
  line = trim_left(line);
  if (!line.starts_with('[')) return "";
  size_t close = line.find(']');
  if (close == std::string_view::npos) return "";
  std::string_view name = line.substr(1, close - 1);
  size_t begin = name.find_first_not_of(" \t");
  size_t end = name.find_last_not_of(" \t");
  return begin == std::string_view::npos ? "" : std::string(name.substr(begin, end - begin + 1));
}

bool sets_key(std::string_view line, std::string_view key) {
  line = trim_left(line);
  if (!line.starts_with(key)) return false;
  line = trim_left(line.substr(key.size()));
  return line.starts_with('=');
}

// /etc/letsencrypt/live/OLD/file → /etc/letsencrypt/live/NEW/file, within one line.
std::string follow_lets_encrypt(std::string line, std::string_view hostname) {
  size_t at = line.find(kLetsEncryptLive);
  if (at == std::string::npos) return line;
  size_t name = at + kLetsEncryptLive.size();
  size_t slash = line.find('/', name);
  if (slash == std::string::npos) return line;
  line.replace(name, slash - name, hostname);
  return line;
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  while (!text.empty()) {
    size_t newline = text.find('\n');
    lines.emplace_back(text.substr(0, newline));
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
  }
  return lines;
}

}  // namespace

Result<std::string> retarget_config(std::string_view text, std::string_view hostname,
                                    const std::filesystem::path& path) {
  std::vector<std::string> lines = split_lines(text);
  const std::string setting = "hostname = " + toml_string(hostname);
  std::string table;
  bool done = false;
  int server_header = -1;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string name = table_name(lines[i]);
    if (!name.empty()) {
      table = name;
      if (name == "server") server_header = static_cast<int>(i);
      continue;
    }
    if (table == "server" && sets_key(lines[i], "hostname")) {
      lines[i] = setting;
      done = true;
    } else if (table == "tls" && (sets_key(lines[i], "certificate") || sets_key(lines[i], "key"))) {
      lines[i] = follow_lets_encrypt(lines[i], hostname);
    }
  }
  if (!done && server_header >= 0) {
    lines.insert(lines.begin() + server_header + 1, setting);
  } else if (!done) {
    lines.insert(lines.begin(), {"[server]", setting, ""});
  }
  std::string out;
  for (const std::string& line : lines) out += line + "\n";
  auto parsed = config::parse(out, path);
  if (!parsed) return Unexpected{parsed.error()};
  if (parsed->server.hostname != hostname) {
    return fail(Errc::kInvalidArgument,
                fmt::format("{}: cannot set server.hostname; set it to \"{}\" by hand",
                            path.string(), hostname));
  }
  return out;
}

Status replace_file(const std::filesystem::path& path, std::string_view text) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    return fail(Errc::kIo, fmt::format("{}: {}", path.string(), std::strerror(errno)));
  }
  std::filesystem::path temporary = path;
  temporary += ".chaparctl-new";
  int fd =
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, info.st_mode & 07777);
  if (fd < 0) {
    return fail(Errc::kIo,
                fmt::format("cannot write {}: {}", temporary.string(), std::strerror(errno)));
  }
  int error = 0;
  for (size_t written = 0; written < text.size() && error == 0;) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno != EINTR) error = errno;
    if (n > 0) written += static_cast<size_t>(n);
  }
  if (error == 0 && ::fchmod(fd, info.st_mode & 07777) != 0) error = errno;
  if (error == 0 && ::geteuid() == 0 && ::fchown(fd, info.st_uid, info.st_gid) != 0) error = errno;
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  ::close(fd);
  if (error == 0 && ::rename(temporary.c_str(), path.c_str()) != 0) error = errno;
  if (error != 0) {
    ::unlink(temporary.c_str());
    return fail(Errc::kIo, fmt::format("cannot write {}: {}", path.string(), std::strerror(error)));
  }
  return {};
}

}  // namespace chapar::ctl
