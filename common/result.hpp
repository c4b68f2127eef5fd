// SPDX-License-Identifier: AGPL-3.0-or-later
// Expected failures travel as values: Result<T> holds either a T or an Error, with the
// interface of std::expected (C++23) so that it can be swapped for it later.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace chapar {

enum class Errc {
  kInvalidArgument,  // the caller's input is malformed
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kQuotaExceeded,
  kLimitExceeded,
  kBusy,         // held by someone else (e.g. a locked maildrop); try again later
  kUnavailable,  // a transient failure: retrying may succeed
  kIo,
  kInternal,
};

struct Error {
  Errc code = Errc::kInternal;
  std::string message;
};

struct Unexpected {
  Error error;
};

inline Unexpected fail(Errc code, std::string message) {
  return Unexpected{Error{code, std::move(message)}};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}
  Result(Unexpected u) : value_(std::move(u.error)) {}

  bool has_value() const { return value_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(value_); }
  const T& value() const& { return std::get<0>(value_); }
  T&& value() && { return std::get<0>(std::move(value_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(value_); }

 private:
  std::variant<T, Error> value_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : error_(std::move(u.error)), ok_(false) {}

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace chapar
