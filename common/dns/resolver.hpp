// SPDX-License-Identifier: AGPL-3.0-or-later
// An asynchronous DNS stub resolver: c-ares driven by a libuv loop (a uv_poll per c-ares
// socket and one timer for its timeouts). Used for MX delivery and, later, SPF and DKIM.
//
// Answers are Result values:
//  - success with records; an empty list means the name exists but has no records of the
//    type asked for (NODATA);
//  - kNotFound: the name does not exist (NXDOMAIN), a permanent condition;
//  - kUnavailable: the answer could not be had now (timeout, SERVFAIL, refused, garbled);
//  - kInvalidArgument: the name cannot be queried (e.g. a label longer than 63 octets).
//
// Threads: a Resolver and its callbacks live on the loop thread. Callbacks always run from
// the loop, never inside the resolve_* call, and never after the Resolver is destroyed;
// destroying it from within a callback is allowed.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace chapar::dns {

struct MxRecord {
  uint16_t preference = 0;
  std::string host;  // without the trailing dot
};

struct MxAnswer {
  std::vector<MxRecord> records;  // by ascending preference, in answer order when equal
  // RFC 7505: the domain publishes a null MX ("0 .") and accepts no mail. The null record
  // itself is not in `records`.
  bool null_mx = false;
};

struct ResolverOptions {
  std::string server;  // "ip:port" or "[ipv6]:port"; empty: the servers of /etc/resolv.conf
  std::chrono::milliseconds timeout{3000};  // for the first try; c-ares backs off after it
  int tries = 3;
};

template <typename T>
using Callback = std::function<void(Result<T>)>;

class Resolver {
 public:
  struct Channel;

  static Result<std::unique_ptr<Resolver>> create(uv_loop_t* loop, ResolverOptions options);
  // `server` as in ResolverOptions, with the default timeout and tries.
  static Result<std::unique_ptr<Resolver>> create(uv_loop_t* loop, std::string server);
  // Pending queries are abandoned: their callbacks are not called.
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  void resolve_mx(std::string domain, Callback<MxAnswer> done);
  // The IPv4 (A) addresses first, then IPv6 (AAAA), as text. A host that is already an IP
  // address is answered with itself, without a query.
  void resolve_addresses(std::string host, Callback<std::vector<std::string>> done);
  // One string per TXT record, its character-strings concatenated (RFC 7208 §3.3).
  void resolve_txt(std::string name, Callback<std::vector<std::string>> done);

  explicit Resolver(std::unique_ptr<Channel> channel);  // use create()

 private:
  std::unique_ptr<Channel> channel_;
};

}  // namespace chapar::dns
