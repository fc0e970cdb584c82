// Helpers shared by the side-by-side benchmark drivers (bench/compare.cpp and
// bench/compare_engines/): timing, medians, the machine note, peak RSS, and the raw file
// baselines (append + fdatasync, sequential write, sequential read). Header-only, POSIX.
#pragma once

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bench {

using Clock = std::chrono::steady_clock;

inline double elapsed_s(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The middle value (the upper middle for an even count); 0 for none.
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

inline double ratio(double a, double b) { return b > 0 ? a / b : 0; }

// Element-wise a[i] / b[i]: ratios within each round, whose measurements ran back to back.
inline std::vector<double> per_round_ratio(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> out;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) out.push_back(ratio(a[i], b[i]));
  return out;
}

// "ext2/3/4", "xfs", ... for the file system holding `dir`.
inline std::string file_system_of(const std::string& dir) {
  struct statfs fs {};
  if (::statfs(dir.c_str(), &fs) != 0) return "unknown";
  switch (static_cast<unsigned long>(fs.f_type)) {
    case 0xEF53: return "ext2/3/4";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x01021994: return "tmpfs";
    case 0x794C7630: return "overlayfs";
    default: {
      char hex[32];
      std::snprintf(hex, sizeof(hex), "0x%lx", static_cast<unsigned long>(fs.f_type));
      return hex;
    }
  }
}

// A field of /proc/self/status in KiB ("VmRSS:", "VmHWM:"); 0 when absent.
// Runs `command` (a freshly executed child, so its memory figures are its own) and parses
// the one line of JSON it prints; nothing when it fails, exits non-zero or prints no JSON.
inline std::optional<nlohmann::json> run_json_child(const std::string& command) {
  FILE* child = ::popen(command.c_str(), "r");
  if (child == nullptr) return std::nullopt;
  char line[4096] = {};
  const bool got = std::fgets(line, sizeof(line), child) != nullptr;
  const int status = ::pclose(child);
  if (!got || status != 0) return std::nullopt;
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

inline uint64_t status_kib(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stoull(line.substr(std::strlen(field)));
  }
  return 0;
}

// Peak RSS of this process in KiB: VmHWM, cross-checked with getrusage's ru_maxrss.
inline uint64_t peak_rss_kib() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return std::max<uint64_t>(status_kib("VmHWM:"), static_cast<uint64_t>(usage.ru_maxrss));
}

// How the raw append baseline writes: `record_bytes`-byte records, `records_per_write` of
// them per pwrite, an fdatasync after every `writes_per_sync` writes (0: none in the loop)
// and, when `final_sync`, one at the end (inside the timed interval).
struct RawAppend {
  size_t record_bytes = 256;
  size_t records_per_write = 1;
  uint64_t writes_per_sync = 1;
  bool final_sync = false;
  double seconds = 2.0;
};

// Appends records to a fresh plain file at `path` (created, then removed) with pwrite for
// `how.seconds`, as `how` says. Returns records per second, 0 on an I/O error.
inline double raw_append_rate(const std::string& path, const RawAppend& how) {
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return 0;
  const std::vector<uint8_t> chunk(how.record_bytes * how.records_per_write, 0xAB);
  uint64_t writes = 0;
  bool failed = false;
  const auto start = Clock::now();
  while (elapsed_s(start) < how.seconds) {
    if (::pwrite(fd, chunk.data(), chunk.size(), static_cast<off_t>(writes * chunk.size())) !=
        static_cast<ssize_t>(chunk.size())) {
      failed = true;
      break;
    }
    ++writes;
    if (how.writes_per_sync > 0 && writes % how.writes_per_sync == 0 && ::fdatasync(fd) != 0) {
      failed = true;
      break;
    }
  }
  if (how.final_sync && ::fdatasync(fd) != 0) failed = true;
  const double rate = static_cast<double>(writes * how.records_per_write) / elapsed_s(start);
  ::close(fd);
  std::filesystem::remove(path);
  return failed ? 0 : rate;
}

// Reads every regular file under `dir` (recursively) whose name ends with `extension` (""
// for all) with read() in 4 MiB chunks, passing each chunk to `consume` when given. Returns
// the bytes read.
inline uint64_t read_all_files(const std::string& dir, const std::string& extension = "",
                               const std::function<void(const uint8_t*, size_t)>& consume = {}) {
  std::vector<uint8_t> buffer(4u << 20);
  uint64_t total = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (!entry.is_regular_file() || (!extension.empty() && entry.path().extension() != extension)) continue;
    int fd = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = 0;
    while ((n = ::read(fd, buffer.data(), buffer.size())) > 0) {
      if (consume) consume(buffer.data(), static_cast<size_t>(n));
      total += static_cast<uint64_t>(n);
    }
    ::close(fd);
  }
  return total;
}

}  // namespace bench
