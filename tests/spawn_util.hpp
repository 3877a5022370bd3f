// Child `nst` processes that a test talks to while they run (to send them a
// signal once a text is on their stderr), as opposed to cli_util.hpp's run_nst,
// which waits for the end.
//
//   Child c = spawn_nst({"stylize", ...}, err_path, {{"NST_TEST_FAIL_IO", "open:1:ENOSPC"}});
//   wait_for_text(c, "iteration 1/");
//   ::kill(c.pid, SIGINT);
//   const int code = wait_exit_code(c);
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "io/file_util.hpp"

extern char** environ;

namespace nst::testing {

struct Child {
  pid_t pid = -1;
  std::string err_path;
};

// Starts `nst ARGS...` with stderr to err_path (stdout to /dev/null), in this
// process's environment plus `env` (NAME, VALUE) pairs.
inline Child spawn_nst(const std::vector<std::string>& args, const std::string& err_path,
                       const std::vector<std::pair<std::string, std::string>>& env = {}) {
  std::vector<std::string> all{NST_BINARY_PATH};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> vars;
  for (char** e = environ; *e; ++e) vars.emplace_back(*e);
  for (const auto& [name, value] : env) vars.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (std::string& v : vars) envp.push_back(v.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  Child c;
  c.err_path = err_path;
  const int rc = posix_spawn(&c.pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  return c;
}

inline int wait_exit_code(const Child& c) {
  int status = 0;
  REQUIRE(::waitpid(c.pid, &status, 0) == c.pid);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

// The file's bytes, or "" when it does not exist.
inline std::string slurp(const std::string& path) {
  return std::filesystem::exists(path) ? read_file(path) : std::string();
}

// Waits (up to 60 s) until the child's stderr holds `needle`.
inline void wait_for_text(const Child& c, const std::string& needle) {
  const auto t0 = std::chrono::steady_clock::now();
  while (slurp(c.err_path).find(needle) == std::string::npos) {
    if (std::chrono::steady_clock::now() - t0 > std::chrono::seconds(60))
      FAIL("no '" << needle << "' on stderr after 60 s:\n" << slurp(c.err_path));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace nst::testing
