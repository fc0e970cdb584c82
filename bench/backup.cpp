// Store::backup against a plain durable copy of the same segment files, side by side.
//
//   batpak_bench_backup [--dir /tmp] [--events 500000] [--rounds 3] [--appending]
//
// Builds a store of `events` events with 200-byte payloads under --dir, closes it, then per
// round: (1) opens it (read-write with --appending, and one thread appends kSync events for
// the whole backup; read-only otherwise) and times backup() alone; (2) times a plain copy of
// the same .seg files (read() and write() in 1 MiB chunks, fsync per file, then the directory).
// Both start with a warm page cache. Prints the medians, the per-round ratio and the growth of
// peak RSS during the backup (VmHWM reset just before it) as one JSON object.
#include <atomic>
#include <thread>

#include "batpak/batpak.hpp"
#include "bench_common.hpp"

namespace {

using bench::Clock;
using bench::elapsed_s;

struct Config {
  std::string dir = "/tmp";
  uint64_t events = 500'000;
  int rounds = 3;
  bool appending = false;
};

bool build_store(const std::string& path, uint64_t events) {
  batpak::StoreOptions options;
  options.durability = batpak::Durability::kBuffered;
  auto store = batpak::Store::open(path, options);
  if (!store) return false;
  const std::vector<uint8_t> payload(200, 0x5A);
  for (uint64_t i = 0; i < events; ++i) {
    auto c = batpak::Coordinate::make("entity" + std::to_string(i % 1000), "bench");
    if (!c || !(*store)->append(*c, batpak::EventKind(0x1001), payload)) return false;
  }
  return (*store)->close().has_value();
}

// A durable copy of the segment files of `from` into the new directory `to`.
bool plain_copy(const std::string& from, const std::string& to) {
  std::filesystem::create_directory(to);
  std::vector<uint8_t> buffer(1u << 20);
  for (const auto& entry : std::filesystem::directory_iterator(from)) {
    if (entry.path().extension() != ".seg") continue;
    const int in = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC);
    const int out = ::open((to + "/" + entry.path().filename().string()).c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    bool ok = in >= 0 && out >= 0;
    for (ssize_t n; ok && (n = ::read(in, buffer.data(), buffer.size())) > 0;) {
      ok = ::write(out, buffer.data(), static_cast<size_t>(n)) == n;
    }
    ok = ok && ::fsync(out) == 0;
    if (in >= 0) ::close(in);
    if (out >= 0) ::close(out);
    if (!ok) return false;
  }
  const int dir = ::open(to.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool synced = dir >= 0 && ::fsync(dir) == 0;
  if (dir >= 0) ::close(dir);
  return synced;
}

struct BackupRound {
  double seconds = 0;
  uint64_t bytes = 0;
  uint64_t rss_growth_kib = 0;
  uint64_t appended_during = 0;
};

std::optional<BackupRound> time_backup(const std::string& store_path, const std::string& to, bool appending) {
  batpak::StoreOptions options;
  options.access = appending ? batpak::AccessMode::kReadWrite : batpak::AccessMode::kReadOnly;
  auto store = batpak::Store::open(store_path, options);
  if (!store) return std::nullopt;
  std::atomic<bool> done{false};
  std::atomic<uint64_t> appended{0};
  std::thread appender;
  if (appending) {
    appender = std::thread([&] {
      const auto c = batpak::Coordinate::make("during-backup", "bench").value();
      const std::vector<uint8_t> payload(200, 0x33);
      while (!done.load() && (*store)->append(c, batpak::EventKind(0x1002), payload)) appended.fetch_add(1);
    });
  }
  // Resets VmHWM to the current RSS (Linux clear_refs "5"), so the peak after is the backup's.
  std::ofstream("/proc/self/clear_refs") << "5";
  const uint64_t rss_before = bench::status_kib("VmRSS:");
  const auto start = Clock::now();
  auto report = (*store)->backup(to);
  const double seconds = elapsed_s(start);
  const uint64_t peak = bench::status_kib("VmHWM:");
  BackupRound round{seconds, report ? report->bytes : 0, peak - std::min(peak, rss_before), 0};
  done.store(true);
  if (appender.joinable()) appender.join();
  round.appended_during = appended.load();
  if (!report) {
    std::fprintf(stderr, "backup: %s\n", report.error().to_string().c_str());
    return std::nullopt;
  }
  return round;
}

Config parse(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--appending") {
      c.appending = true;
    } else if (i + 1 < argc && flag == "--dir") {
      c.dir = argv[++i];
    } else if (i + 1 < argc && flag == "--events") {
      c.events = std::stoull(argv[++i]);
    } else if (i + 1 < argc && flag == "--rounds") {
      c.rounds = std::stoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: batpak_bench_backup [--dir DIR] [--events N] [--rounds N] [--appending]\n");
      std::exit(2);
    }
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  const Config config = parse(argc, argv);
  const std::string root = config.dir + "/batpak-bench-backup-" + std::to_string(::getpid());
  std::filesystem::create_directories(root);
  const std::string store = root + "/store";
  if (!build_store(store, config.events)) {
    std::fprintf(stderr, "could not build the store\n");
    return 1;
  }
  std::vector<double> backup_s, plain_s, ratios;
  uint64_t bytes = 0, rss_growth_kib = 0, appended_during = 0;
  for (int r = 0; r < config.rounds; ++r) {
    const std::string to = root + "/backup" + std::to_string(r);
    auto round = time_backup(store, to, config.appending);
    if (!round) return 1;
    bytes = round->bytes;
    rss_growth_kib = std::max(rss_growth_kib, round->rss_growth_kib);
    appended_during += round->appended_during;
    const auto start = Clock::now();
    if (!plain_copy(store, root + "/plain" + std::to_string(r))) return 1;
    plain_s.push_back(elapsed_s(start));
    backup_s.push_back(round->seconds);
    ratios.push_back(bench::ratio(plain_s.back(), backup_s.back()));
    std::filesystem::remove_all(to);
    std::filesystem::remove_all(root + "/plain" + std::to_string(r));
  }
  std::filesystem::remove_all(root);
  std::printf("%s\n", nlohmann::json{{"events", config.events},
                                      {"appending", config.appending},
                                      {"file_system", bench::file_system_of(config.dir)},
                                      {"bytes_copied", bytes},
                                      {"backup_s_median", bench::median(backup_s)},
                                      {"plain_copy_s_median", bench::median(plain_s)},
                                      {"backup_speed_vs_plain_copy_per_round", ratios},
                                      {"backup_speed_vs_plain_copy_median", bench::median(ratios)},
                                      {"peak_rss_growth_kib_during_backup", rss_growth_kib},
                                      {"events_appended_during_backups", appended_during}}
                          .dump()
                          .c_str());
  return 0;
}
