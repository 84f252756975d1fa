// Child processes for tests: commands run to completion and background servers.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace wwp::test {

struct CommandResult {
  int exit_code = -1;  // -1 when it could not start or died of a signal
  std::string output;  // stdout and stderr together
};
// Runs a program to completion (no shell; PATH is searched), stdin from /dev/null.
CommandResult run_command(const std::vector<std::string>& argv);
// Runs `command` through /bin/sh, for tests that need pipes or redirections.
CommandResult run_shell(const std::string& command);
// `text` single-quoted for /bin/sh.
std::string shell_quote(const std::string& text);

// A background process with stdout and stderr appended to `log_file`, stdin from /dev/null.
// Stopped (SIGTERM, then SIGKILL after 5 s) when the object dies.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& log_file);
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();

  bool started() const { return pid_ > 0; }
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // True when the process has ended (reaped without blocking).
  bool exited();
  void stop();
  void kill_now();  // SIGKILL: a crash, no chance to clean up
  // Sends `signal` and waits; the raw wait status.
  int signal_and_wait(int signal);
  int wait();  // exit code, or -1 when killed by a signal

 private:
  pid_t pid_ = -1;
};

}  // namespace wwp::test
