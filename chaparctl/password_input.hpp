// SPDX-License-Identifier: AGPL-3.0-or-later
// Reading a new password: the first line of standard input with --password-stdin (for
// scripts), otherwise typed twice on the terminal with echo off.
#pragma once

#include <istream>
#include <string>
#include <string_view>

#include "chaparctl/context.hpp"
#include "common/result.hpp"

namespace chapar::ctl {

inline constexpr size_t kMaxPasswordLength = 1024;

// The first line of `in` without its line end. Fails when there is none, when it is empty
// or longer than kMaxPasswordLength.
Result<std::string> read_password_line(std::istream& in);

// Asks on /dev/tty without echo, twice; fails when there is no terminal or the two differ.
Result<std::string> prompt_new_password(std::string_view address);

// read_password_line(ctx.io.in) with --password-stdin, else prompt_new_password().
Result<std::string> read_new_password(const Context& ctx, std::string_view address);

}  // namespace chapar::ctl
