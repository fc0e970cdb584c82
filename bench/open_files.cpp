// What bounding the open segment files (StoreOptions::open_segment_files_max) costs reads,
// side by side: the same store, opened read-only with every segment file open (a bound above
// the segment count), with the default bound of 256, and with a bound of 8.
//
//   batpak_bench_open_files [--dir /tmp] [--events 200000] [--segment-bytes 131072]
//                           [--reads 100000] [--rounds 3]
//
// Builds a store of `events` events (200-byte payloads) in segments of `segment-bytes`, then
// per round and per bound: opens it, times `reads` point reads (get) of events picked at
// random over the whole journal, then one commit-order scan of every event (query_after
// pages of 10,000). The page cache is warm. Prints medians, per-round ratios to the all-open
// run, and the descriptors each run held at its end, as one JSON object.
#include <map>

#include "batpak/batpak.hpp"
#include "bench_common.hpp"

namespace {

using bench::Clock;
using bench::elapsed_s;

struct Config {
  std::string dir = "/tmp";
  uint64_t events = 200'000;
  uint64_t segment_bytes = 128 << 10;
  uint64_t reads = 100'000;
  int rounds = 3;
};

std::optional<std::vector<batpak::EventId>> build_store(const std::string& path, const Config& config) {
  batpak::StoreOptions options;
  options.durability = batpak::Durability::kBuffered;
  options.segment_bytes_max = config.segment_bytes;
  auto store = batpak::Store::open(path, options);
  if (!store) return std::nullopt;
  const std::vector<uint8_t> payload(200, 0x5A);
  std::vector<batpak::EventId> ids;
  ids.reserve(config.events);
  for (uint64_t i = 0; i < config.events; ++i) {
    auto c = batpak::Coordinate::make("entity" + std::to_string(i % 1000), "bench");
    auto r = c ? (*store)->append(*c, batpak::EventKind(0x1001), payload) : batpak::Result<batpak::Receipt>();
    if (!c || !r) return std::nullopt;
    ids.push_back(r->event_id);
  }
  if (!(*store)->close()) return std::nullopt;
  return ids;
}

size_t open_fds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

struct Run {
  double reads_per_s = 0;
  double scan_s = 0;
  size_t fds_at_end = 0;
  uint64_t segments = 0;
};

std::optional<Run> run(const std::string& path, size_t open_files_max, const std::vector<batpak::EventId>& ids,
                       uint64_t reads) {
  batpak::StoreOptions options;
  options.access = batpak::AccessMode::kReadOnly;
  options.open_segment_files_max = open_files_max;
  auto store = batpak::Store::open(path, options);
  if (!store) return std::nullopt;
  Run out;
  out.segments = (*store)->stats().segment_count;
  uint64_t pick = 88172645463325252ull;
  auto start = Clock::now();
  for (uint64_t i = 0; i < reads; ++i) {
    pick ^= pick << 13, pick ^= pick >> 7, pick ^= pick << 17;
    if (!(*store)->get(ids[pick % ids.size()])) return std::nullopt;
  }
  out.reads_per_s = static_cast<double>(reads) / elapsed_s(start);
  start = Clock::now();
  uint64_t after = 0, seen = 0;
  while (true) {
    auto page = (*store)->query_after(batpak::Region::all(), after, 10'000);
    if (!page) return std::nullopt;
    if (page->empty()) break;
    seen += page->size();
    after = page->back().header.global_sequence;
  }
  out.scan_s = elapsed_s(start);
  out.fds_at_end = open_fds();
  if (seen != ids.size()) return std::nullopt;
  return out;
}

Config parse(int argc, char** argv) {
  Config c;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--dir") {
      c.dir = value;
    } else if (flag == "--events") {
      c.events = std::stoull(value);
    } else if (flag == "--segment-bytes") {
      c.segment_bytes = std::stoull(value);
    } else if (flag == "--reads") {
      c.reads = std::stoull(value);
    } else if (flag == "--rounds") {
      c.rounds = std::stoi(value);
    } else {
      i = argc;  // Unknown: usage below.
    }
  }
  if (argc % 2 == 0 || c.events == 0 || c.rounds <= 0) {
    std::fprintf(stderr,
                 "usage: batpak_bench_open_files [--dir DIR] [--events N] [--segment-bytes N] [--reads N] "
                 "[--rounds N]\n");
    std::exit(2);
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  const Config config = parse(argc, argv);
  const std::string root = config.dir + "/batpak-bench-open-files-" + std::to_string(::getpid());
  std::filesystem::create_directories(root);
  const std::string store = root + "/store";
  const auto ids = build_store(store, config);
  if (!ids) {
    std::fprintf(stderr, "could not build the store\n");
    return 1;
  }
  const std::vector<std::pair<std::string, size_t>> bounds{{"all_open", 1'000'000}, {"default_256", 256}, {"bound_8", 8}};
  std::map<std::string, std::vector<double>> reads_per_s, scan_s, reads_vs_all_open, scan_speed_vs_all_open;
  std::map<std::string, size_t> fds_at_end;
  uint64_t segments = 0;
  for (int r = 0; r < config.rounds; ++r) {
    for (const auto& [name, bound] : bounds) {
      const std::optional<Run> got = run(store, bound, *ids, config.reads);
      if (!got) {
        std::fprintf(stderr, "a read failed (bound %zu)\n", bound);
        return 1;
      }
      segments = got->segments;
      reads_per_s[name].push_back(got->reads_per_s);
      scan_s[name].push_back(got->scan_s);
      fds_at_end[name] = got->fds_at_end;
      reads_vs_all_open[name].push_back(bench::ratio(got->reads_per_s, reads_per_s["all_open"].back()));
      scan_speed_vs_all_open[name].push_back(bench::ratio(scan_s["all_open"].back(), got->scan_s));
    }
  }
  std::filesystem::remove_all(root);
  nlohmann::json out{{"events", config.events}, {"segments", segments}, {"reads_per_round", config.reads},
                     {"file_system", bench::file_system_of(config.dir)}};
  for (const auto& [name, bound] : bounds) {
    out[name] = {{"open_segment_files_max", bound},
                 {"point_reads_per_s_median", bench::median(reads_per_s[name])},
                 {"point_reads_vs_all_open_per_round", reads_vs_all_open[name]},
                 {"scan_s_median", bench::median(scan_s[name])},
                 {"scan_speed_vs_all_open_per_round", scan_speed_vs_all_open[name]},
                 {"process_fds_at_end", fds_at_end[name]}};
  }
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
