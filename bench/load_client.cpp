// SPDX-License-Identifier: AGPL-3.0-or-later
// The pop3 and imap workloads of bench/load.py, in C++, so that the load generator takes
// little of the CPU that the servers under test need (bench/run uses it when it is built).
//
//   load_client pop3 --port P --users user051@bench.test,... [--clients 50]
//   load_client imap --port P --users user001@bench.test,... [--clients 50] [--seconds 30]
//
// Other options, with load.py's defaults: --host 127.0.0.1, --password bench-password,
// --search bench (the imap SEARCH SUBJECT key), --timeout 120 (seconds a socket may wait);
// --processes N is accepted for load.py's command line and ignored (one process here).
//
// Workloads, counts and the JSON object printed on stdout are load.py's, key for key (its
// docstring defines them): client i logs in as users[i % len(users)]; pop3 counts the octets
// of each RETR answer between its +OK line and its "." line, dot-stuffing included; imap
// counts an operation for each command answered OK before --seconds are over, and the
// octets of the literals those answers held. Client i of imap draws its FETCH ranges from
// Python's random.Random(i), so both generators send the very same commands.
//
// Each client is one thread on a blocking socket with a 256 KB read buffer; answers are
// scanned in place (lines by memchr, the POP3 terminator by memmem, IMAP literals skipped by
// their announced size) and nothing is copied. A client that meets an unexpected answer
// (-ERR, NO, BAD, a closed connection, a timeout) counts an error and prints it on stderr
// (imap: the first 3 per client; the client then starts a new cycle, as load.py's does).
//
// Exit status: 0 if no client met an error; 1 if any did (the JSON is printed all the same);
// 2 for a bad command line or an address that does not resolve.
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace {

using chapar::Errc;
using chapar::fail;
using chapar::Result;
using chapar::Status;
using Clock = std::chrono::steady_clock;

constexpr size_t kReadBuffer = 256 * 1024;  // as load.py's buffered readers

struct Options {
  std::string mode;
  std::string host = "127.0.0.1";
  std::string port;
  std::vector<std::string> users;
  std::string password = "bench-password";
  int clients = 50;
  double seconds = 30;
  std::string search = "bench";
  double timeout = 120;
};

// --- sockets ----------------------------------------------------------------------------

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

struct AddrinfoFree {
  void operator()(addrinfo* list) const { freeaddrinfo(list); }
};
using Addresses = std::unique_ptr<addrinfo, AddrinfoFree>;

std::string errno_text(const char* what) {
  return std::string(what) + ": " + strerror(errno);
}

// A blocking TCP connection with one large read buffer. The views that line() returns point
// into that buffer and stay valid until the next call that reads.
class Connection {
 public:
  // Connects to the first of `addresses` that accepts; `timeout` bounds every connect,
  // send and receive (Linux applies SO_SNDTIMEO to connect).
  static Result<Connection> open(const addrinfo* addresses, double timeout) {
    timeval limit{};
    limit.tv_sec = static_cast<time_t>(timeout);
    limit.tv_usec = static_cast<suseconds_t>((timeout - std::floor(timeout)) * 1e6);
    std::string error = "no address";
    for (const addrinfo* a = addresses; a != nullptr; a = a->ai_next) {
      Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
      if (fd.get() < 0) {
        error = errno_text("socket");
        continue;
      }
      setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
      setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
      if (::connect(fd.get(), a->ai_addr, a->ai_addrlen) == 0) return Connection(std::move(fd));
      error = errno_text("connect");
    }
    return fail(Errc::kIo, error);
  }

  Status send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail(Errc::kIo, errno_text("send"));
      data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
  }

  // The next line, through its LF.
  Result<std::string_view> line() {
    size_t scanned = 0;  // octets after begin_ known to hold no LF
    while (true) {
      const char* from = buf_.data() + begin_;
      if (const void* lf = std::memchr(from + scanned, '\n', end_ - begin_ - scanned)) {
        size_t length = static_cast<const char*>(lf) - from + 1;
        begin_ += length;
        return std::string_view(from, length);
      }
      scanned = end_ - begin_;
      if (Status s = fill(); !s) return fail(s.error().code, s.error().message);
    }
  }

  // Reads and discards the next `count` octets.
  Status skip(uint64_t count) {
    while (count > 0) {
      if (begin_ == end_) {
        if (Status s = fill(); !s) return s;
      }
      size_t take = static_cast<size_t>(std::min<uint64_t>(count, end_ - begin_));
      begin_ += take;
      count -= take;
    }
    return {};
  }

  // Reads the rest of a POP3 multi-line answer whose first line has been read, through the
  // line that holds only "." (RFC 1939 §3); returns the octets before that line, as sent
  // (dot-stuffing and CRLFs included).
  Result<uint64_t> multiline_body() {
    while (end_ - begin_ < 3) {
      if (Status s = fill(); !s) return fail(s.error().code, s.error().message);
    }
    if (std::memcmp(buf_.data() + begin_, ".\r\n", 3) == 0) {  // an empty body
      begin_ += 3;
      return uint64_t{0};
    }
    // Every other line starts after an LF, so the terminator is "\n.\r\n".
    uint64_t octets = 0;
    while (true) {
      const char* from = buf_.data() + begin_;
      size_t available = end_ - begin_;
      if (const void* hit = memmem(from, available, "\n.\r\n", 4)) {
        size_t body = static_cast<const char*>(hit) - from + 1;
        begin_ += body + 3;
        return octets + body;
      }
      // The last three octets may begin a terminator that the next read completes.
      if (available > 3) {
        octets += available - 3;
        begin_ = end_ - 3;
      }
      if (Status s = fill(); !s) return fail(s.error().code, s.error().message);
    }
  }

 private:
  explicit Connection(Fd fd) : fd_(std::move(fd)), buf_(kReadBuffer) {}

  // Receives at least one more octet after end_, first making room: the unread octets move
  // to the front when less than a quarter of the buffer is free; a buffer full of one
  // unread line doubles.
  Status fill() {
    if (begin_ == end_) begin_ = end_ = 0;
    if (buf_.size() - end_ < buf_.size() / 4) {
      if (begin_ > 0) {
        std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      if (end_ == buf_.size()) buf_.resize(2 * buf_.size());
    }
    while (true) {
      ssize_t n = ::recv(fd_.get(), buf_.data() + end_, buf_.size() - end_, 0);
      if (n > 0) {
        end_ += static_cast<size_t>(n);
        return {};
      }
      if (n == 0) return fail(Errc::kIo, "connection closed");
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return fail(Errc::kIo, "timed out");
      return fail(Errc::kIo, errno_text("recv"));
    }
  }

  Fd fd_;
  std::vector<char> buf_;
  size_t begin_ = 0;  // unread octets are buf_[begin_, end_)
  size_t end_ = 0;
};

// A server's line for a message: at most 200 octets, control characters escaped.
std::string printable(std::string_view line) {
  std::string out;
  for (unsigned char c : line.substr(0, 200)) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

Status protocol_error(std::string message) {
  return fail(Errc::kInvalidArgument, message);
}

// The whole of `text` as a number (T: uint64_t or double), or nothing.
template <typename T = uint64_t>
std::optional<T> parse_number(std::string_view text) {
  T value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return {};
  return value;
}

// Error lines from all clients, each written whole.
class Reporter {
 public:
  void line(const std::string& text) {
    std::lock_guard lock(mutex_);
    std::fprintf(stderr, "%s\n", text.c_str());
  }

 private:
  std::mutex mutex_;
};

struct Target {
  const Options& options;
  const addrinfo* addresses;
  Reporter& reporter;
};

// --- pop3 -------------------------------------------------------------------------------

struct Pop3Stats {
  uint64_t messages = 0;
  uint64_t octets = 0;
  uint64_t errors = 0;
};

// Sends a command; its answer must be +OK (RFC 1939 §3). Returns the answer's line.
Result<std::string_view> pop3_command(Connection& conn, std::string_view text) {
  std::string wire(text);
  wire += "\r\n";
  if (Status s = conn.send(wire); !s) return fail(s.error().code, s.error().message);
  Result<std::string_view> line = conn.line();
  if (!line) return line;
  if (!line->starts_with("+OK")) {
    std::string verb(text.substr(0, text.find(' ')));
    return fail(Errc::kInvalidArgument, verb + ": " + printable(*line));
  }
  return line;
}

Status pop3_session(const Target& target, const std::string& user, Pop3Stats& stats) {
  Result<Connection> conn = Connection::open(target.addresses, target.options.timeout);
  if (!conn) return fail(conn.error().code, conn.error().message);
  Result<std::string_view> greeting = conn->line();
  if (!greeting) return fail(greeting.error().code, greeting.error().message);
  if (!greeting->starts_with("+OK")) return protocol_error("greeting: " + printable(*greeting));
  for (const std::string& text : {"USER " + user, "PASS " + target.options.password}) {
    if (auto answer = pop3_command(*conn, text); !answer) {
      return fail(answer.error().code, answer.error().message);
    }
  }
  Result<std::string_view> stat = pop3_command(*conn, "STAT");
  if (!stat) return fail(stat.error().code, stat.error().message);
  // RFC 1939 §5: "+OK nn mm", nn the number of messages.
  std::string_view rest = stat->substr(4);
  std::optional<uint64_t> count = parse_number(rest.substr(0, rest.find(' ')));
  if (!count) return protocol_error("STAT: " + printable(*stat));
  std::string retr;
  for (uint64_t number = 1; number <= *count; ++number) {
    retr = "RETR " + std::to_string(number);
    if (auto answer = pop3_command(*conn, retr); !answer) {
      return fail(answer.error().code, answer.error().message);
    }
    Result<uint64_t> octets = conn->multiline_body();
    if (!octets) return fail(octets.error().code, octets.error().message);
    stats.octets += *octets;
    ++stats.messages;
  }
  if (auto answer = pop3_command(*conn, "QUIT"); !answer) {
    return fail(answer.error().code, answer.error().message);
  }
  return {};
}

void pop3_client(const Target& target, int index, Pop3Stats& stats) {
  const std::string& user = target.options.users[index % target.options.users.size()];
  if (Status s = pop3_session(target, user, stats); !s) {
    ++stats.errors;
    target.reporter.line("pop3 client " + std::to_string(index) + ": " + s.error().message);
  }
}

// --- imap -------------------------------------------------------------------------------

// Python's random.Random(seed).randint(a, b) for a seed below 2^32: MT19937 seeded by
// CPython's init_by_array with the key [seed] (Modules/_randommodule.c), then randint's
// rejection sampling on getrandbits(k) (Lib/random.py, _randbelow_with_getrandbits).
class PythonRandom {
 public:
  explicit PythonRandom(uint32_t seed) {
    InitByArray state{seed};
    engine_.seed(state);
  }

  int64_t randint(int64_t low, int64_t high) {
    auto n = static_cast<uint64_t>(high - low + 1);
    int k = std::bit_width(n);  // at most 32 for the ranges used here
    uint64_t r;
    do {
      r = engine_() >> (32 - k);
    } while (r >= n);
    return low + static_cast<int64_t>(r);
  }

 private:
  // A seed sequence for std::mt19937::seed, which takes the 624 words it generates as the
  // state and draws next from a fresh twist, as CPython does after init_by_array.
  struct InitByArray {
    using result_type = uint32_t;
    uint32_t key;

    template <typename It>
    void generate(It first, It last) const {
      constexpr size_t kN = 624;
      std::array<uint32_t, kN> mt{};
      mt[0] = 19650218U;
      for (size_t i = 1; i < kN; ++i) {
        mt[i] = 1812433253U * (mt[i - 1] ^ (mt[i - 1] >> 30)) + static_cast<uint32_t>(i);
      }
      size_t i = 1;
      for (size_t k = kN; k > 0; --k) {  // a key of one word: init_key[j] + j is key + 0
        mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525U)) + key;
        if (++i >= kN) {
          mt[0] = mt[kN - 1];
          i = 1;
        }
      }
      for (size_t k = kN - 1; k > 0; --k) {
        mt[i] =
            (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941U)) - static_cast<uint32_t>(i);
        if (++i >= kN) {
          mt[0] = mt[kN - 1];
          i = 1;
        }
      }
      mt[0] = 0x80000000U;
      std::copy_n(mt.begin(), std::min<size_t>(kN, last - first), first);
    }
  };

  std::mt19937 engine_;
};

enum Command { kLogin, kSelect, kFetchEnvelope, kFetchBodies, kStore, kSearch, kLogout, kCount };
constexpr std::array<const char*, kCount> kCommandNames = {
    "LOGIN", "SELECT", "FETCH_ENVELOPE", "FETCH_BODIES", "STORE", "SEARCH", "LOGOUT"};

struct ImapStats {
  std::array<uint64_t, kCount> count{};
  std::array<double, kCount> seconds{};
  uint64_t octets = 0;
  uint64_t errors = 0;
  uint64_t cycles = 0;
};

struct ImapReply {
  uint64_t exists = 0;  // from the first "* n EXISTS" (RFC 9051 §7.4.1), 0 if none
  uint64_t literal_octets = 0;
};

// RFC 9051 §4.3: a line that ends in "{n}" CRLF (or "{n+}", RFC 7888) announces n octets.
std::optional<uint64_t> literal_size(std::string_view line) {
  if (!line.ends_with("}\r\n")) return {};
  size_t open = line.rfind('{');
  if (open == std::string_view::npos) return {};
  std::string_view digits = line.substr(open + 1, line.size() - open - 4);
  if (digits.ends_with('+')) digits.remove_suffix(1);
  return parse_number(digits);
}

std::string imap_quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out + '"';
}

class Imap {
 public:
  static Result<Imap> open(const Target& target) {
    Result<Connection> conn = Connection::open(target.addresses, target.options.timeout);
    if (!conn) return fail(conn.error().code, conn.error().message);
    Result<std::string_view> greeting = conn->line();
    if (!greeting) return fail(greeting.error().code, greeting.error().message);
    if (!greeting->starts_with("* OK")) {
      return fail(Errc::kInvalidArgument, "greeting: " + printable(*greeting));
    }
    return Imap(std::move(*conn));
  }

  // Sends `text` under a new tag and reads every line up to the tagged completion, whose
  // status must be OK (RFC 9051 §7.1).
  Result<ImapReply> command(std::string_view text) {
    std::string tag = "a" + std::to_string(++tag_) + " ";
    std::string wire = tag + std::string(text) + "\r\n";
    if (Status s = conn_.send(wire); !s) return fail(s.error().code, s.error().message);
    std::string_view verb = text.substr(0, text.find(' '));
    ImapReply reply;
    bool want_exists = true;
    while (true) {
      Result<std::string_view> line = conn_.line();
      if (!line) return during(line.error(), verb);
      if (line->starts_with(tag)) {
        std::string_view status = line->substr(tag.size());
        status = status.substr(0, status.find_first_of(" \r\n"));
        if (status != "OK") {
          return fail(Errc::kInvalidArgument,
                      std::string(verb) + " answered " + printable(line->substr(tag.size())));
        }
        return reply;
      }
      if (want_exists) {
        if (std::optional<uint64_t> exists = exists_of(*line)) {
          reply.exists = *exists;
          want_exists = false;
        }
      }
      while (std::optional<uint64_t> size = literal_size(*line)) {
        if (Status s = conn_.skip(*size); !s) return during(s.error(), verb);
        reply.literal_octets += *size;
        line = conn_.line();
        if (!line) return during(line.error(), verb);
      }
    }
  }

 private:
  explicit Imap(Connection conn) : conn_(std::move(conn)) {}

  static chapar::Unexpected during(const chapar::Error& error, std::string_view verb) {
    return fail(error.code, error.message + " during " + std::string(verb));
  }

  static std::optional<uint64_t> exists_of(std::string_view line) {
    if (!line.starts_with("* ")) return {};
    line.remove_prefix(2);
    size_t space = line.find(' ');
    if (space == std::string_view::npos || !line.substr(space).starts_with(" EXISTS")) return {};
    return parse_number(line.substr(0, space));
  }

  Connection conn_;
  uint64_t tag_ = 0;
};

struct ImapClient {
  const Target& target;
  const std::string& user;
  Clock::time_point deadline;
  PythonRandom random;
  bool add = true;  // STORE adds \Flagged, then removes it, alternately
  ImapStats stats;

  // One connection: the seven commands in order, each timed. Returns after LOGOUT, or
  // early (not a cycle) when the deadline passes before a command starts.
  Status cycle() {
    Result<Imap> imap = Imap::open(target);
    if (!imap) return fail(imap.error().code, imap.error().message);
    uint64_t exists = 0;
    int64_t first = 0;
    int64_t last = 0;
    std::string text;
    for (int command = 0; command < kCount; ++command) {
      if (Clock::now() >= deadline) return {};
      switch (command) {
        case kLogin:
          text = "LOGIN " + imap_quote(user) + " " + imap_quote(target.options.password);
          break;
        case kSelect:
          text = "SELECT INBOX";
          break;
        case kFetchEnvelope:
          text = "FETCH 1:* (FLAGS ENVELOPE)";
          break;
        case kFetchBodies:
          first = random.randint(1, std::max<int64_t>(1, static_cast<int64_t>(exists) - 99));
          last = std::min(static_cast<int64_t>(exists), first + 99);
          text = "FETCH " + std::to_string(first) + ":" + std::to_string(last) + " BODY.PEEK[]";
          break;
        case kStore:
          text = "STORE " + std::to_string(first) + ":" + std::to_string(last) + " " +
                 (add ? "+" : "-") + "FLAGS (\\Flagged)";
          add = !add;
          break;
        case kSearch:
          text = "SEARCH SUBJECT " + imap_quote(target.options.search);
          break;
        default:
          text = "LOGOUT";
      }
      Clock::time_point began = Clock::now();
      Result<ImapReply> reply = imap->command(text);
      Clock::time_point ended = Clock::now();
      if (!reply) return fail(reply.error().code, reply.error().message);
      if (command == kSelect) {
        exists = reply->exists;
        if (exists == 0) return protocol_error("INBOX of " + user + " is empty");
      }
      if (ended <= deadline) {
        ++stats.count[command];
        stats.seconds[command] += std::chrono::duration<double>(ended - began).count();
        stats.octets += reply->literal_octets;
      }
    }
    ++stats.cycles;
    return {};
  }
};

void imap_client(const Target& target, int index, Clock::time_point deadline, ImapStats& stats) {
  const std::string& user = target.options.users[index % target.options.users.size()];
  ImapClient client{target, user, deadline, PythonRandom(static_cast<uint32_t>(index)), true, {}};
  while (Clock::now() < deadline) {
    if (Status s = client.cycle(); !s) {
      if (++client.stats.errors <= 3) {
        target.reporter.line("imap client " + std::to_string(index) + ": " + s.error().message);
      }
    }
  }
  stats = client.stats;
}

// --- output -----------------------------------------------------------------------------

// A double as Python's repr writes it (and so json.dumps): the shortest digits that read
// back to it, in exponent form when the exponent is below -4 or at least 16.
std::string python_float(double value) {
  char buf[64];
  auto sci = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string_view text(buf, sci.ptr - buf);
  size_t e = text.find('e');
  int exponent = 0;
  std::from_chars(text.data() + e + (text[e + 1] == '+' ? 2 : 1), text.data() + text.size(),
                  exponent);
  if (exponent < -4 || exponent >= 16) return std::string(text);
  auto fixed = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed);
  std::string out(buf, fixed.ptr - buf);
  if (out.find('.') == std::string::npos) out += ".0";
  return out;
}

// Python's round(value, digits), written as json.dumps writes the float it returns.
std::string python_round(double value, int digits) {
  char buf[64];
  auto end = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, digits);
  double rounded = 0;
  std::from_chars(buf, end.ptr, rounded);
  return python_float(rounded);
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// --- main -------------------------------------------------------------------------------

// Starts one thread per client, all released at once; returns the wall-clock seconds from
// their release to the end of the last one. `run(index, deadline)` is one client.
template <typename Run>
double run_clients(const Options& options, Run run) {
  std::latch go(1);
  Clock::time_point began;
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(options.clients));
  for (int i = 0; i < options.clients; ++i) {
    threads.emplace_back([&, i] {
      go.wait();
      run(i, began + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(options.seconds)));
    });
  }
  began = Clock::now();
  go.count_down();
  for (std::thread& t : threads) t.join();
  return std::chrono::duration<double>(Clock::now() - began).count();
}

int cmd_pop3(const Options& options, const Target& target) {
  std::vector<Pop3Stats> all(static_cast<size_t>(options.clients));
  double seconds = run_clients(options, [&](int index, Clock::time_point) {
    pop3_client(target, index, all[static_cast<size_t>(index)]);
  });
  Pop3Stats total;
  for (const Pop3Stats& s : all) {
    total.messages += s.messages;
    total.octets += s.octets;
    total.errors += s.errors;
  }
  std::printf(
      "{\"workload\": \"pop3\", \"clients\": %d, \"messages\": %llu, \"octets\": %llu, "
      "\"errors\": %llu, \"seconds\": %s, \"messages_per_second\": %s, "
      "\"client_cpu_seconds\": %s}\n",
      options.clients, static_cast<unsigned long long>(total.messages),
      static_cast<unsigned long long>(total.octets), static_cast<unsigned long long>(total.errors),
      python_round(seconds, 3).c_str(),
      python_round(static_cast<double>(total.messages) / seconds, 1).c_str(),
      python_round(cpu_seconds(), 2).c_str());
  return total.errors == 0 ? 0 : 1;
}

int cmd_imap(const Options& options, const Target& target) {
  std::vector<ImapStats> all(static_cast<size_t>(options.clients));
  run_clients(options, [&](int index, Clock::time_point deadline) {
    imap_client(target, index, deadline, all[static_cast<size_t>(index)]);
  });
  ImapStats total;
  uint64_t operations = 0;
  for (const ImapStats& s : all) {
    for (int c = 0; c < kCount; ++c) {
      total.count[c] += s.count[c];
      total.seconds[c] += s.seconds[c];
      operations += s.count[c];
    }
    total.octets += s.octets;
    total.errors += s.errors;
    total.cycles += s.cycles;
  }
  std::string commands;
  for (int c = 0; c < kCount; ++c) {
    commands +=
        std::string(c ? ", " : "") + "\"" + kCommandNames[c] +
        "\": {\"count\": " + std::to_string(total.count[c]) + ", \"mean_ms\": " +
        (total.count[c]
             ? python_round(1000 * total.seconds[c] / static_cast<double>(total.count[c]), 2)
             : "null") +
        "}";
  }
  std::printf(
      "{\"workload\": \"imap\", \"clients\": %d, \"seconds\": %s, \"operations\": %llu, "
      "\"operations_per_second\": %s, \"octets\": %llu, \"cycles\": %llu, \"errors\": %llu, "
      "\"client_cpu_seconds\": %s, \"commands\": {%s}}\n",
      options.clients, python_float(options.seconds).c_str(),
      static_cast<unsigned long long>(operations),
      python_round(static_cast<double>(operations) / options.seconds, 1).c_str(),
      static_cast<unsigned long long>(total.octets), static_cast<unsigned long long>(total.cycles),
      static_cast<unsigned long long>(total.errors), python_round(cpu_seconds(), 2).c_str(),
      commands.c_str());
  return total.errors == 0 ? 0 : 1;
}

std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> out;
  while (true) {
    size_t comma = text.find(',');
    out.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

Result<Options> parse_options(int argc, char** argv) {
  Options options;
  bool have_users = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (!arg.starts_with("--")) {
      if (!options.mode.empty()) return fail(Errc::kInvalidArgument, "extra argument " + arg);
      options.mode = arg;
      continue;
    }
    std::string value;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return fail(Errc::kInvalidArgument, arg + " needs a value");
    }
    std::optional<double> number = parse_number<double>(value);
    if (arg == "--host") {
      options.host = value;
    } else if (arg == "--port") {
      options.port = value;
    } else if (arg == "--users") {
      options.users = split_commas(value);
      have_users = true;
    } else if (arg == "--password") {
      options.password = value;
    } else if (arg == "--search") {
      options.search = value;
    } else if (arg == "--clients" && number && *number >= 1 && *number == std::floor(*number)) {
      options.clients = static_cast<int>(*number);
    } else if (arg == "--seconds" && number && *number > 0) {
      options.seconds = *number;
    } else if (arg == "--timeout" && number && *number > 0) {
      options.timeout = *number;
    } else if (arg != "--processes" || !number) {
      return fail(Errc::kInvalidArgument, "bad option " + arg + " " + value);
    }
  }
  if (options.mode != "pop3" && options.mode != "imap") {
    return fail(Errc::kInvalidArgument,
                "the workload must be pop3 or imap (idle is bench/load.py's)");
  }
  if (options.port.empty() || !have_users) {
    return fail(Errc::kInvalidArgument, "--port and --users are required");
  }
  return options;
}

void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Result<Options> options = parse_options(argc, argv);
  if (!options) {
    std::fprintf(stderr,
                 "load_client: %s\nusage: load_client pop3|imap --port P --users U1,U2,... "
                 "[--host H] [--password P] [--clients N] [--seconds S] [--search KEY] "
                 "[--timeout S]\n",
                 options.error().message.c_str());
    return 2;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(options->host.c_str(), options->port.c_str(), &hints, &found)) {
    std::fprintf(stderr, "load_client: %s port %s: %s\n", options->host.c_str(),
                 options->port.c_str(), gai_strerror(rc));
    return 2;
  }
  Addresses addresses(found);
  raise_fd_limit();
  Reporter reporter;
  Target target{*options, addresses.get(), reporter};
  int status = options->mode == "pop3" ? cmd_pop3(*options, target) : cmd_imap(*options, target);
  std::fflush(stdout);
  return status;
}
