// Side-by-side comparison driver (docs/performance.md). Every figure comes from this one
// run on one file system; each measurement runs `--rounds` times interleaved and the median
// is reported, because shared machines are noisy.
//
//   batpak_compare [--dir /tmp] [--seconds 2] [--rounds 3] [--reopen-events 1000000]
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "batpak/batpak.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Config {
  std::string dir = "/tmp";
  double seconds = 2.0;
  int rounds = 3;
  uint64_t reopen_events = 1'000'000;
};

std::string fresh_dir(const Config& c, const std::string& name) {
  std::string path = c.dir + "/batpak-bench-" + std::to_string(::getpid()) + "-" + name;
  std::filesystem::remove_all(path);
  return path;
}

double elapsed_s(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Raw baseline: 256-byte records appended with pwrite, each followed by fdatasync.
double raw_append_fdatasync(const Config& c) {
  const std::string path = fresh_dir(c, "raw");
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) return 0;
  std::vector<uint8_t> record(256, 0xAB);
  uint64_t n = 0;
  const auto start = Clock::now();
  while (elapsed_s(start) < c.seconds) {
    if (::pwrite(fd, record.data(), record.size(), static_cast<off_t>(n * record.size())) < 0) break;
    if (::fdatasync(fd) != 0) break;
    ++n;
  }
  const double rate = static_cast<double>(n) / elapsed_s(start);
  ::close(fd);
  std::filesystem::remove(path);
  return rate;
}

// Events per second from `threads` appenders with 200-byte payloads for c.seconds.
double batpak_append_rate(const Config& c, batpak::Durability durability, int threads) {
  const std::string path = fresh_dir(c, "append");
  batpak::StoreOptions options;
  options.durability = durability;
  auto store = batpak::Store::open(path, options);
  if (!store) return 0;
  const std::vector<uint8_t> payload(200, 0x42);
  std::atomic<uint64_t> total{0};
  std::atomic<bool> failed{false};
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto coordinate = batpak::Coordinate::make("bench:" + std::to_string(t), "bench");
      uint64_t n = 0;
      while (elapsed_s(start) < c.seconds) {
        if (!(*store)->append(*coordinate, batpak::EventKind{0x1001}, payload)) {
          failed = true;
          break;
        }
        ++n;
      }
      total += n;
    });
  }
  for (auto& w : workers) w.join();
  const double rate = static_cast<double>(total.load()) / elapsed_s(start);
  (void)(*store)->close();
  std::filesystem::remove_all(path);
  return failed ? 0 : rate;
}

// Builds a store of `events` events (200-byte payloads, 1000 entities) with buffered batches.
bool build_store(const std::string& path, uint64_t events) {
  batpak::StoreOptions options;
  options.durability = batpak::Durability::kBuffered;
  auto store = batpak::Store::open(path, options);
  if (!store) return false;
  std::vector<batpak::BatchItem> batch;
  for (uint64_t i = 0; i < events; ++i) {
    batch.push_back({*batpak::Coordinate::make("entity:" + std::to_string(i % 1000), "bench"),
                     batpak::EventKind{0x1001}, std::vector<uint8_t>(200, static_cast<uint8_t>(i)), {}});
    if (batch.size() == 1000 || i + 1 == events) {
      if (!(*store)->append_batch(batch)) return false;
      batch.clear();
    }
  }
  return static_cast<bool>((*store)->close());
}

uint64_t status_kib(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field, 0) == 0) return std::stoull(line.substr(std::strlen(field)));
  }
  return 0;
}

struct Reopen {
  double open_s = 0;
  double plain_read_s = 0;
  double bytes_per_event = 0;  // Peak RSS growth during open, per indexed event.
  uint64_t events = 0;
  uint64_t data_bytes = 0;
};

// The child half of measure_reopen: opens the store read-only in this fresh process and
// prints {"open_s", "events", "data_bytes", "bytes_per_event"}.
int reopen_child(const std::string& path) {
  const uint64_t before_kib = status_kib("VmRSS:");
  batpak::StoreOptions options;
  options.access = batpak::AccessMode::kReadOnly;
  const auto start = Clock::now();
  auto store = batpak::Store::open(path, options);
  const double open_s = elapsed_s(start);
  if (!store) return 1;
  const auto stats = (*store)->stats();
  const double grown = static_cast<double>(status_kib("VmHWM:") - before_kib) * 1024.0;
  std::printf("%s\n", nlohmann::json{{"open_s", open_s},
                                      {"events", stats.event_count},
                                      {"data_bytes", stats.data_bytes},
                                      {"bytes_per_event", grown / static_cast<double>(std::max<uint64_t>(1, stats.event_count))}}
                          .dump()
                          .c_str());
  return 0;
}

// Times Store::open (full scan: checksums and chain checks) in a freshly executed copy of
// this program, so its peak RSS is its own, then a plain sequential read of the same files.
Reopen measure_reopen(const std::string& self, const std::string& path) {
  Reopen r;
  const std::string command = "'" + self + "' --reopen-child '" + path + "'";
  if (FILE* child = ::popen(command.c_str(), "r")) {
    char line[4096] = {};
    if (std::fgets(line, sizeof(line), child) != nullptr) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded()) {
        r.open_s = j["open_s"];
        r.events = j["events"];
        r.data_bytes = j["data_bytes"];
        r.bytes_per_event = j["bytes_per_event"];
      }
    }
    ::pclose(child);
  }
  std::vector<char> buffer(4u << 20);
  const auto start = Clock::now();
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.path().extension() != ".seg") continue;
    int fd = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC);
    while (::read(fd, buffer.data(), buffer.size()) > 0) {
    }
    ::close(fd);
  }
  r.plain_read_s = elapsed_s(start);
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

Config parse(int argc, char** argv) {
  Config c;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--dir") c.dir = value;
    if (flag == "--seconds") c.seconds = std::stod(value);
    if (flag == "--rounds") c.rounds = std::stoi(value);
    if (flag == "--reopen-events") c.reopen_events = std::stoull(value);
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--reopen-child") return reopen_child(argv[2]);
  const Config c = parse(argc, argv);
  std::string command;
  for (int i = 0; i < argc; ++i) command += std::string(i ? " " : "") + argv[i];

  std::vector<double> raw, sync1, sync8, buffered, async1;
  for (int round = 0; round < c.rounds; ++round) {
    raw.push_back(raw_append_fdatasync(c));
    sync1.push_back(batpak_append_rate(c, batpak::Durability::kSync, 1));
    sync8.push_back(batpak_append_rate(c, batpak::Durability::kSync, 8));
    buffered.push_back(batpak_append_rate(c, batpak::Durability::kBuffered, 1));
    async1.push_back(batpak_append_rate(c, batpak::Durability::kAsync, 1));
  }
  const std::string store_path = fresh_dir(c, "reopen");
  if (!build_store(store_path, c.reopen_events)) return 1;
  std::vector<Reopen> reopens;
  for (int round = 0; round < c.rounds; ++round) reopens.push_back(measure_reopen(argv[0], store_path));
  std::filesystem::remove_all(store_path);
  std::sort(reopens.begin(), reopens.end(), [](const Reopen& a, const Reopen& b) { return a.open_s < b.open_s; });
  const Reopen reopen = reopens[reopens.size() / 2];

  const double r = median(raw), s1 = median(sync1), s8 = median(sync8), b1 = median(buffered),
               a1 = median(async1);
  nlohmann::json report = {
      {"command", command},
      {"raw_append_fdatasync_per_s", r},
      {"durable_single_per_s", s1},
      {"durable_single_vs_raw", r > 0 ? s1 / r : 0},
      {"durable_8_threads_per_s", s8},
      {"durable_8_vs_single", s1 > 0 ? s8 / s1 : 0},
      {"buffered_single_per_s", b1},
      {"async_single_per_s", a1},
      {"reopen_events", reopen.events},
      {"reopen_data_bytes", reopen.data_bytes},
      {"reopen_s", reopen.open_s},
      {"plain_read_s", reopen.plain_read_s},
      {"reopen_vs_plain_read", reopen.plain_read_s > 0 ? reopen.open_s / reopen.plain_read_s : 0},
      {"peak_rss_bytes_per_event", reopen.bytes_per_event},
      {"peak_rss_mib_per_million_events", reopen.bytes_per_event * 1e6 / (1 << 20)},
  };
  std::printf("command: %s\n", command.c_str());
  std::printf("%-44s %14.0f events/s\n", "raw pwrite+fdatasync (256 B)", r);
  std::printf("%-44s %14.0f events/s  %.2fx raw (target >= 0.8x)\n", "batpak kSync, 1 appender", s1, r > 0 ? s1 / r : 0);
  std::printf("%-44s %14.0f events/s  %.2fx single (target >= 5x)\n", "batpak kSync, 8 appenders", s8, s1 > 0 ? s8 / s1 : 0);
  std::printf("%-44s %14.0f events/s  (target >= 300000)\n", "batpak kBuffered, 1 appender", b1);
  std::printf("%-44s %14.0f events/s  (target >= 300000)\n", "batpak kAsync, 1 appender", a1);
  std::printf("%-44s %14.3f s for %llu events  %.2fx a plain read (%.3f s)\n", "reopen (checksums + chain)",
              reopen.open_s, static_cast<unsigned long long>(reopen.events),
              reopen.plain_read_s > 0 ? reopen.open_s / reopen.plain_read_s : 0, reopen.plain_read_s);
  std::printf("%-44s %14.1f MiB per million events\n", "peak RSS growth during open",
              reopen.bytes_per_event * 1e6 / (1 << 20));
  std::printf("%s\n", report.dump().c_str());
  return 0;
}
