// Child processes for crash tests: run one, SIGKILL it after a delay, collect what it
// reported on its stdout pipe before dying.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace batpak::testing {

struct ChildRun {
  std::string output;  // Everything the child wrote to its stdout pipe.
  bool killed = false; // It died of our SIGKILL (and not of anything else).
  int exit_code = -1;
};

// When the kill delay starts counting.
enum class KillClock {
  kFromLaunch,       // At fork: the kill may land while the child opens or recovers the store.
  kFromFirstOutput,  // At the child's first output byte, so that a slow start (a loaded machine,
                     // a sanitizer build) does not eat the delay; a child silent for
                     // kSilentChildMs is killed anyway.
};
inline constexpr int kSilentChildMs = 20000;

// Runs `binary args...` and SIGKILLs it `delay_ms` after `clock` starts, draining its stdout
// pipe meanwhile.
inline ChildRun run_and_kill(const char* binary, const std::vector<std::string>& args, int delay_ms,
                             KillClock clock = KillClock::kFromLaunch) {
  ChildRun run;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return run;
  std::vector<const char*> argv{binary};
  for (const std::string& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);  // dup2 clears O_CLOEXEC on the copy.
    ::execv(binary, const_cast<char* const*>(argv.data()));
    ::_exit(127);
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    return run;
  }
  const auto delay = std::chrono::milliseconds(delay_ms);
  auto deadline = std::chrono::steady_clock::now() +
                  (clock == KillClock::kFromLaunch ? delay : std::chrono::milliseconds(kSilentChildMs));
  char buf[4096];
  bool eof = false;
  while (!eof) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) break;
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) > 0) {
      const ssize_t n = ::read(fds[0], buf, sizeof(buf));
      if (n <= 0) eof = true;  // The child exited on its own: reported below.
      if (n > 0 && clock == KillClock::kFromFirstOutput && run.output.empty()) {
        deadline = std::chrono::steady_clock::now() + delay;
      }
      if (n > 0) run.output.append(buf, static_cast<size_t>(n));
    }
  }
  ::kill(pid, SIGKILL);
  // Whatever the child wrote before it died is still in the pipe.
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) > 0;) run.output.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  run.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  return run;
}

inline std::vector<std::vector<std::string>> lines_of(const std::string& output) {
  std::vector<std::vector<std::string>> out;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string word; words >> word;) w.push_back(word);
    out.push_back(std::move(w));
  }
  return out;
}

// BATPAK_CRASH_SEED when set (to replay a run), else a random seed.
inline uint32_t seed_from_env() {
  if (const char* s = std::getenv("BATPAK_CRASH_SEED")) return static_cast<uint32_t>(std::strtoul(s, nullptr, 10));
  return static_cast<uint32_t>(std::random_device{}());
}

}  // namespace batpak::testing
