// SPDX-License-Identifier: AGPL-3.0-or-later
// The dispatcher: what every command is checked for before it runs, and the exit statuses.
#include "chaparctl/commands.hpp"

#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

#include "chaparctl/exit_codes.hpp"
#include "tests/chaparctl/ctl_runner.hpp"
#include "tests/support/test_dir.hpp"

namespace chapar::ctl {
using test::is_one_error_line;
using test::run_ctl;

TEST_CASE("usage errors exit 64 with one line naming the problem") {
  struct Case {
    std::vector<std::string> argv;
    const char* says;
  };
  const Case cases[] = {
      {{}, "missing command"},
      {{"frobnicate"}, "unknown command 'frobnicate'"},
      {{"user"}, "'user' needs a subcommand: add, passwd"},
      {{"user", "frob", "x@y.test"}, "unknown command 'user frob'"},
      {{"user", "add"}, "wrong number of arguments; usage: chaparctl [--config FILE] user add"},
      {{"user", "add", "a@b.test", "c@d.test"}, "wrong number of arguments"},
      {{"domain", "list", "extra"}, "wrong number of arguments"},
      {{"stats", "now"}, "wrong number of arguments"},
      {{"init"}, "'init' needs --dir"},
      {{"init", "--dir", "/tmp/x", "--config", "/tmp/y"}, "option '--config' does not apply"},
      {{"domain", "add", "x.test", "--quota", "1"}, "option '--quota' does not apply"},
      {{"--bogus", "stats"}, "unknown option '--bogus'"},
      {{"user", "add", "a@b.test", "--quota"}, "option '--quota' needs a value"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.says);
    auto result = run_ctl(c.argv);
    CHECK(result.status == kExitUsage);
    CHECK(is_one_error_line(result.err));
    CHECK(result.err.find(c.says) != std::string::npos);
    CHECK(result.out.empty());
  }
}

TEST_CASE("help lists every command and succeeds") {
  for (std::vector<std::string> argv :
       {std::vector<std::string>{"--help"}, {"help"}, {"-h"}, {"user", "add", "--help"}}) {
    auto result = run_ctl(argv);
    CHECK(result.status == kExitOk);
    CHECK(result.err.empty());
    for (const Command& command : commands()) {
      std::string name(command.group);
      if (!command.verb.empty()) name += " " + std::string(command.verb);
      CAPTURE(name);
      CHECK(result.out.find(name) != std::string::npos);
    }
  }
}

TEST_CASE("a missing or broken configuration exits 78") {
  chapar::test::TestDir dir;
  auto missing = run_ctl({"--config", (dir / "none.toml").string(), "domain", "list"});
  CHECK(missing.status == kExitConfig);
  CHECK(is_one_error_line(missing.err));
  CHECK(missing.err.find("none.toml: configuration file not found") != std::string::npos);

  {
    std::ofstream broken(dir / "broken.toml");
    broken << "[server]\nfrobnicate = 1\nlog_level = 7\n";
  }
  auto broken = run_ctl({"--config", (dir / "broken.toml").string(), "stats"});
  CHECK(broken.status == kExitConfig);
  CHECK(is_one_error_line(broken.err));
  CHECK(broken.err.find("broken.toml:2") != std::string::npos);
  CHECK(broken.err.find("(and 1 more)") != std::string::npos);
}

TEST_CASE("a configuration pointing at no store exits 78") {
  chapar::test::TestDir dir;
  {
    std::ofstream config(dir / "chapar.toml");
    config << "[store]\ndata_dir = \"" << (dir / "empty").string() << "\"\n";
  }
  auto result = run_ctl({"--config", (dir / "chapar.toml").string(), "domain", "list"});
  CHECK(result.status == kExitConfig);
  CHECK(is_one_error_line(result.err));
  CHECK(result.err.find("store.data_dir: no store in") != std::string::npos);
}

TEST_CASE("sysexits mapping of store failures") {
  CHECK(exit_code_for(Errc::kInvalidArgument) == kExitData);
  CHECK(exit_code_for(Errc::kAlreadyExists) == kExitData);
  CHECK(exit_code_for(Errc::kNotFound) == kExitNoUser);
  CHECK(exit_code_for(Errc::kIo) == kExitIo);
  CHECK(exit_code_for(Errc::kBusy) == kExitTempFail);
  CHECK(exit_code_for(Errc::kInternal) == kExitSoftware);
}

}  // namespace chapar::ctl
