// Runs the batpak CLI as a child process with given stdin; captures exit code and output.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace batpak::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  // stdout as JSON Lines.
  std::vector<nlohmann::json> lines() const {
    std::vector<nlohmann::json> v;
    size_t start = 0;
    for (size_t nl; (nl = out.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (nl > start) v.push_back(nlohmann::json::parse(out.substr(start, nl - start)));
    }
    return v;
  }
};

inline std::string read_all(int fd) {
  std::string s;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) s.append(buf, static_cast<size_t>(n));
  return s;
}

// A CLI child started by start_cli. finish_cli reaps it; one still running when its CliChild
// is destroyed (a test that failed before finishing it) is killed and reaped.
struct CliChild {
  pid_t pid = -1;
  int out_fd = -1;
  int err_fd = -1;

  CliChild() = default;
  CliChild(pid_t p, int out, int err) : pid(p), out_fd(out), err_fd(err) {}
  CliChild(CliChild&& other) noexcept
      : pid(std::exchange(other.pid, -1)), out_fd(std::exchange(other.out_fd, -1)), err_fd(std::exchange(other.err_fd, -1)) {}
  CliChild& operator=(CliChild&&) = delete;
  ~CliChild() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (out_fd >= 0) ::close(out_fd);
    if (err_fd >= 0) ::close(err_fd);
  }

  // Reads the child's stdout until it has printed `count` lines in all (those read before
  // included), waiting at most `timeout_ms`; appends what it read to `out`. False on timeout
  // or end of output first. What is read here is not in finish_cli's CliResult::out.
  bool read_lines(size_t count, int timeout_ms, std::string& out) const {
    for (int waited_ms = 0; static_cast<size_t>(std::count(out.begin(), out.end(), '\n')) < count; waited_ms += 5) {
      pollfd ready{out_fd, POLLIN, 0};
      if (waited_ms > timeout_ms) return false;
      if (::poll(&ready, 1, 5) != 1) continue;
      char buf[4096];
      const ssize_t n = ::read(out_fd, buf, sizeof(buf));
      if (n <= 0) return false;
      out.append(buf, static_cast<size_t>(n));
    }
    return true;
  }

  // True once the child exited (it is not reaped: finish_cli still collects it), waiting at
  // most `timeout_ms`.
  bool exits_within(int timeout_ms) const {
    for (int waited_ms = 0; waited_ms <= timeout_ms; waited_ms += 5) {
      siginfo_t info{};
      if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) return true;
      ::usleep(5000);
    }
    return false;
  }
};

// Starts BATPAK_CLI_PATH with `args`. stdin is written from a temp file so large inputs
// cannot dead-lock against the child's output.
inline CliChild start_cli(const std::vector<std::string>& args, const std::string& input = "") {
  char in_path[] = "/tmp/batpak-cli-in-XXXXXX";
  // Every descriptor is close-on-exec (dup2 onto 0, 1 and 2 clears the flag in the child):
  // tests run the CLI from several threads at once, and a child forked by another thread
  // must not inherit this call's pipe ends. A `tail --follow` child holding a write end of
  // an `append` child's stdout kept this call from seeing EOF while the tail waited for
  // that append: a dead-lock.
  int in_fd = ::mkostemp(in_path, O_CLOEXEC);
  if (::write(in_fd, input.data(), input.size()) != static_cast<ssize_t>(input.size())) return {};
  ::lseek(in_fd, 0, SEEK_SET);
  ::unlink(in_path);
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) return {};
  // argv is built before fork: tests fork from several threads, and a child of a
  // multi-threaded parent may only make async-signal-safe calls (a malloc could dead-lock
  // on a lock another thread held at fork time) until execv.
  std::string exe = BATPAK_CLI_PATH;
  std::vector<std::string> copy = args;
  std::vector<char*> argv;
  argv.push_back(exe.data());
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in_fd, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(in_fd);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  return CliChild{pid, out_pipe[0], err_pipe[0]};
}

// Reads the child's output until it exits, then reaps it.
inline CliResult finish_cli(CliChild& child) {
  CliResult r;
  if (child.pid < 0) return r;
  // Drain stderr in a way that cannot block forever: stdout first, then stderr; the CLI's
  // stderr output is a single short line, far below the pipe buffer.
  r.out = read_all(child.out_fd);
  r.err = read_all(child.err_fd);
  int status = 0;
  ::waitpid(std::exchange(child.pid, -1), &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Runs BATPAK_CLI_PATH with `args` to its end.
inline CliResult run_cli(const std::vector<std::string>& args, const std::string& input = "") {
  CliChild child = start_cli(args, input);
  return finish_cli(child);
}

}  // namespace batpak::testing
