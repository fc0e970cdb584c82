// Side-by-side comparison driver (docs/performance.md). Every figure comes from this one
// run on one file system; each measurement runs `--rounds` times, interleaved, and the
// median is reported (every round's value is in the JSON too), because shared machines
// are noisy.
//
//   batpak_compare [--dir /tmp] [--seconds 2] [--rounds 3] [--reopen-events 1000000]
//                  [--only raw,rawwrite,sync1,sync8,buffered,async,reopen]
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "batpak/batpak.hpp"
#include "bench_common.hpp"

namespace {

using bench::Clock;
using bench::elapsed_s;
using bench::file_system_of;
using bench::median;
using bench::ratio;
using bench::status_kib;

constexpr size_t kPayloadBytes = 200;
constexpr size_t kRawRecordBytes = 256;

struct Config {
  std::string dir = "/tmp";
  double seconds = 2.0;
  int rounds = 3;
  uint64_t reopen_events = 1'000'000;
  std::set<std::string> only;  // Empty: everything.

  bool wants(const std::string& name) const { return only.empty() || only.count(name) > 0; }
  // Opt-in measurements, not part of the default run.
  bool asked_for(const std::string& name) const { return only.count(name) > 0; }
};

std::string fresh_dir(const Config& c, const std::string& name) {
  std::string path = c.dir + "/batpak-bench-" + std::to_string(::getpid()) + "-" + name;
  std::filesystem::remove_all(path);
  return path;
}

// Raw baseline: 256-byte records appended with pwrite to a fresh plain file, each followed
// by fdatasync (or, with sync == false, not synced at all: the ceiling of one write system
// call per event, for kBuffered), for c.seconds. Returns records per second (0 on an error).
double raw_append(const Config& c, bool sync) {
  bench::RawAppend how;
  how.record_bytes = kRawRecordBytes;
  how.writes_per_sync = sync ? 1 : 0;
  how.seconds = c.seconds;
  return bench::raw_append_rate(fresh_dir(c, "raw"), how);
}

// How the appends of batpak_append_rate are made.
struct AppendShape {
  bool sealed = false;                 // StoreOptions::encrypt_payloads.
  bool new_entity_per_append = false;  // Each append to an entity of its own (a new key each).
};

// Events per second from `threads` appenders (one entity each, or a new one per append)
// with 200-byte payloads for c.seconds, on a fresh store. Returns 0 if any append failed.
double batpak_append_rate(const Config& c, batpak::Durability durability, int threads, AppendShape shape = {}) {
  const std::string path = fresh_dir(c, "append");
  batpak::StoreOptions options;
  options.durability = durability;
  options.encrypt_payloads = shape.sealed;
  auto store = batpak::Store::open(path, options);
  if (!store) {
    std::fprintf(stderr, "open %s: %s\n", path.c_str(), store.error().message.c_str());
    return 0;
  }
  const std::vector<uint8_t> payload(kPayloadBytes, 0x42);
  std::atomic<uint64_t> total{0};
  std::atomic<bool> failed{false};
  const auto start = Clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto coordinate = batpak::Coordinate::make("bench:" + std::to_string(t), "bench");
      uint64_t n = 0;
      while (elapsed_s(start) < c.seconds) {
        if (shape.new_entity_per_append) {
          coordinate = batpak::Coordinate::make("bench:" + std::to_string(t) + ":" + std::to_string(n), "bench");
        }
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
  if (!(*store)->close()) failed = true;
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
                     batpak::EventKind{0x1001}, std::vector<uint8_t>(kPayloadBytes, static_cast<uint8_t>(i)),
                     {}});
    if (batch.size() == 1000 || i + 1 == events) {
      if (!(*store)->append_batch(batch)) return false;
      batch.clear();
    }
  }
  return static_cast<bool>((*store)->close());
}

struct Reopen {
  double open_s = 0;
  double plain_read_s = 0;
  double bytes_per_event = 0;  // Peak RSS growth during open, per indexed event.
  uint64_t rss_before_kib = 0;
  uint64_t peak_rss_kib = 0;
  uint64_t events = 0;
  uint64_t data_bytes = 0;
  uint64_t plain_read_bytes = 0;
};

// The child half of measure_reopen: opens the store read-only by the full scan (as a
// read-write open without an index checkpoint: every frame checksum and every chain link) in this fresh process and
// prints one JSON object. Peak RSS is VmHWM; ru_maxrss is the same figure from getrusage.
int reopen_child(const std::string& path) {
  const uint64_t before_kib = status_kib("VmRSS:");
  batpak::StoreOptions options;
  options.access = batpak::AccessMode::kReadOnly;
  options.index_checkpoint = false;  // The full scan; bench/compare_engines times the checkpoint too.
  const auto start = Clock::now();
  auto store = batpak::Store::open(path, options);
  const double open_s = elapsed_s(start);
  if (!store) {
    std::fprintf(stderr, "reopen: %s\n", store.error().message.c_str());
    return 1;
  }
  const auto stats = (*store)->stats();
  const uint64_t peak_kib = bench::peak_rss_kib();
  const double grown = static_cast<double>(peak_kib - std::min(peak_kib, before_kib)) * 1024.0;
  std::printf("%s\n", nlohmann::json{{"open_s", open_s},
                                      {"events", stats.event_count},
                                      {"data_bytes", stats.data_bytes},
                                      {"rss_before_kib", before_kib},
                                      {"peak_rss_kib", peak_kib},
                                      {"bytes_per_event",
                                       grown / static_cast<double>(std::max<uint64_t>(1, stats.event_count))}}
                          .dump()
                          .c_str());
  return 0;
}

// Times Store::open in a freshly executed copy of this program (so its peak RSS is its own),
// then a plain sequential read() in 4 MiB chunks of the same segment files. Both run with a
// warm page cache: nothing is dropped (that needs root), and the files were just written/read.
Reopen measure_reopen(const std::string& self, const std::string& path) {
  Reopen r;
  const std::string command = "'" + self + "' --reopen-child '" + path + "'";
  if (const std::optional<nlohmann::json> j = bench::run_json_child(command)) {
    r.open_s = (*j)["open_s"];
    r.events = (*j)["events"];
    r.data_bytes = (*j)["data_bytes"];
    r.rss_before_kib = (*j)["rss_before_kib"];
    r.peak_rss_kib = (*j)["peak_rss_kib"];
    r.bytes_per_event = (*j)["bytes_per_event"];
  }
  const auto start = Clock::now();
  r.plain_read_bytes = bench::read_all_files(path, ".seg");
  r.plain_read_s = elapsed_s(start);
  return r;
}

void usage(FILE* to) {
  std::fprintf(to,
               "usage: batpak_compare [--dir DIR] [--seconds S] [--rounds N] [--reopen-events N]\n"
               "                      [--only raw,rawwrite,sync1,sync8,buffered,async,reopen,\n"
               "                              sealed1,sealedbuf,sealednew,sealednew8,\n"
               "                              sync2,sync4,sync16]\n"
               "  --dir            parent of the temporary stores and files (default /tmp)\n"
               "  --seconds        duration of each append measurement (default 2)\n"
               "  --rounds         interleaved rounds; medians are reported (default 3)\n"
               "  --reopen-events  events in the reopen store, 200-byte payloads (default 1000000)\n"
               "  --only           run only these measurements (default: all); sealed*: payload\n"
               "                   encryption (kSync; kBuffered; kBuffered with a new entity per append,\n"
               "                   from 1 and from 8 appenders); sync2, sync4, sync16: kSync from\n"
               "                   that many appenders (only when asked for)\n");
}

bool parse(int argc, char** argv, Config& c) {
  static const std::set<std::string> kNames = {"raw",    "rawwrite", "sync1",   "sync8",    "buffered",
                                               "async",  "reopen",   "sealed1", "sealedbuf", "sealednew",
                                               "sealednew8", "sync2", "sync4", "sync16"};
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      usage(stdout);
      std::exit(0);
    }
    if (i + 1 >= argc) return false;
    const std::string value = argv[i + 1];
    try {
      if (flag == "--dir") {
        c.dir = value;
      } else if (flag == "--seconds") {
        c.seconds = std::stod(value);
      } else if (flag == "--rounds") {
        c.rounds = std::stoi(value);
      } else if (flag == "--reopen-events") {
        c.reopen_events = std::stoull(value);
      } else if (flag == "--only") {
        std::stringstream list(value);
        for (std::string name; std::getline(list, name, ',');) {
          if (kNames.count(name) == 0) return false;
          c.only.insert(name);
        }
      } else {
        return false;
      }
    } catch (const std::exception&) {
      return false;
    }
  }
  return c.seconds > 0 && c.rounds > 0 && c.reopen_events > 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--reopen-child") return reopen_child(argv[2]);
  Config c;
  if (!parse(argc, argv, c)) {
    usage(stderr);
    return 2;
  }
  std::string command;
  for (int i = 0; i < argc; ++i) command += std::string(i ? " " : "") + argv[i];
  std::printf("command: %s\n", command.c_str());
  std::fflush(stdout);

  // Append measurements, interleaved round by round so slow phases of a noisy disk hit all.
  std::vector<double> raw, rawwrite, sync1, sync8, buffered, async1, sealed1, sealedbuf, sealednew, sealednew8;
  std::map<int, std::vector<double>> sync_n = {{2, {}}, {4, {}}, {16, {}}};  // kSync, n appenders.
  for (int round = 0; round < c.rounds; ++round) {
    if (c.wants("raw")) raw.push_back(raw_append(c, /*sync=*/true));
    if (c.wants("rawwrite")) rawwrite.push_back(raw_append(c, /*sync=*/false));
    if (c.wants("sync1")) sync1.push_back(batpak_append_rate(c, batpak::Durability::kSync, 1));
    if (c.wants("sync8")) sync8.push_back(batpak_append_rate(c, batpak::Durability::kSync, 8));
    for (auto& [n, rates] : sync_n) {
      if (c.asked_for("sync" + std::to_string(n))) rates.push_back(batpak_append_rate(c, batpak::Durability::kSync, n));
    }
    if (c.wants("buffered")) buffered.push_back(batpak_append_rate(c, batpak::Durability::kBuffered, 1));
    if (c.wants("async")) async1.push_back(batpak_append_rate(c, batpak::Durability::kAsync, 1));
    if (c.wants("sealed1")) sealed1.push_back(batpak_append_rate(c, batpak::Durability::kSync, 1, {true, false}));
    if (c.wants("sealedbuf")) sealedbuf.push_back(batpak_append_rate(c, batpak::Durability::kBuffered, 1, {true, false}));
    if (c.wants("sealednew")) sealednew.push_back(batpak_append_rate(c, batpak::Durability::kBuffered, 1, {true, true}));
    if (c.wants("sealednew8")) sealednew8.push_back(batpak_append_rate(c, batpak::Durability::kBuffered, 8, {true, true}));
  }
  Reopen reopen;
  std::vector<double> reopen_rounds, plain_rounds;
  if (c.wants("reopen")) {
    const std::string store_path = fresh_dir(c, "reopen");
    const auto build_start = Clock::now();
    if (!build_store(store_path, c.reopen_events)) {
      std::fprintf(stderr, "building the reopen store failed\n");
      return 1;
    }
    std::printf("built the reopen store (%llu events) in %.1f s\n",
                static_cast<unsigned long long>(c.reopen_events), elapsed_s(build_start));
    std::vector<Reopen> reopens;
    for (int round = 0; round < c.rounds; ++round) reopens.push_back(measure_reopen(argv[0], store_path));
    std::filesystem::remove_all(store_path);
    for (const Reopen& r : reopens) {
      reopen_rounds.push_back(r.open_s);
      plain_rounds.push_back(r.plain_read_s);
    }
    std::sort(reopens.begin(), reopens.end(), [](const Reopen& a, const Reopen& b) { return a.open_s < b.open_s; });
    reopen = reopens[reopens.size() / 2];
    reopen.plain_read_s = median(plain_rounds);
  }

  const double rw = median(rawwrite);
  const double r = median(raw), s1 = median(sync1), s8 = median(sync8), b1 = median(buffered),
               a1 = median(async1);
  // Ratios within each round (the measurements of one round ran back to back), as a check
  // on the ratio of medians when the disk's speed drifts between rounds.
  const std::vector<double> single_vs_raw = bench::per_round_ratio(sync1, raw),
                            eight_vs_single = bench::per_round_ratio(sync8, sync1);
  nlohmann::json durable_n_rates = nlohmann::json::object(), durable_n_vs_single = nlohmann::json::object();
  for (const auto& [n, rates] : sync_n) {
    if (rates.empty()) continue;
    durable_n_rates[std::to_string(n)] = median(rates);
    durable_n_vs_single[std::to_string(n)] = bench::per_round_ratio(rates, sync1);
  }
  utsname host{};
  ::uname(&host);
  nlohmann::json report = {
      {"command", command},
      {"machine", {{"cpus", std::thread::hardware_concurrency()},
                   {"kernel", std::string(host.release)},
                   {"file_system", file_system_of(c.dir)},
                   {"dir", c.dir}}},
      {"seconds_per_measurement", c.seconds},
      {"rounds", c.rounds},
      {"payload_bytes", kPayloadBytes},
      {"raw_record_bytes", kRawRecordBytes},
      {"raw_append_fdatasync_per_s", r},
      {"durable_single_per_s", s1},
      {"durable_single_vs_raw", ratio(s1, r)},
      {"durable_single_vs_raw_per_round", single_vs_raw},
      {"durable_8_threads_per_s", s8},
      {"durable_8_vs_single", ratio(s8, s1)},
      {"durable_8_vs_single_per_round", eight_vs_single},
      {"raw_pwrite_no_sync_per_s", rw},
      {"buffered_single_per_s", b1},
      {"buffered_vs_raw_pwrite", ratio(b1, rw)},
      {"async_single_per_s", a1},
      {"sealed_single_per_s", median(sealed1)},
      {"sealed_single_vs_durable_single_per_round", bench::per_round_ratio(sealed1, sync1)},
      {"sealed_buffered_per_s", median(sealedbuf)},
      {"sealed_buffered_vs_buffered_per_round", bench::per_round_ratio(sealedbuf, buffered)},
      {"sealed_new_entity_buffered_per_s", median(sealednew)},
      {"sealed_new_entity_buffered_8_threads_per_s", median(sealednew8)},
      {"sealed_new_entity_8_vs_1_per_round", bench::per_round_ratio(sealednew8, sealednew)},
      {"durable_n_threads_per_s", durable_n_rates},
      {"durable_n_vs_single_per_round", durable_n_vs_single},
      {"rounds_per_s", {{"raw", raw}, {"rawwrite", rawwrite}, {"sync1", sync1}, {"sync8", sync8}, {"buffered", buffered}, {"async", async1},
                        {"sealed1", sealed1}, {"sealedbuf", sealedbuf}, {"sealednew", sealednew},
                        {"sealednew8", sealednew8}}},
      {"reopen_events", reopen.events},
      {"reopen_data_bytes", reopen.data_bytes},
      {"reopen_s", reopen.open_s},
      {"plain_read_bytes", reopen.plain_read_bytes},
      {"plain_read_s", reopen.plain_read_s},
      {"reopen_vs_plain_read", ratio(reopen.open_s, reopen.plain_read_s)},
      {"reopen_rounds_s", reopen_rounds},
      {"plain_read_rounds_s", plain_rounds},
      {"page_cache", "warm (nothing dropped) for both the open and the plain read"},
      {"rss_before_open_kib", reopen.rss_before_kib},
      {"peak_rss_kib", reopen.peak_rss_kib},
      {"peak_rss_bytes_per_event", reopen.bytes_per_event},
      {"peak_rss_mib_per_million_events", reopen.bytes_per_event * 1e6 / (1 << 20)},
  };
  for (const auto& [n, rates] : sync_n) {
    if (!rates.empty()) report["rounds_per_s"]["sync" + std::to_string(n)] = rates;
  }
  auto spread = [](const std::vector<double>& v) {
    if (v.empty()) return std::string("(not run)");
    char text[64];
    std::snprintf(text, sizeof(text), "[%.0f .. %.0f]", *std::min_element(v.begin(), v.end()),
                  *std::max_element(v.begin(), v.end()));
    return std::string(text);
  };
  std::printf("file system: %s under %s, %u CPUs, kernel %s; %d rounds of %.1f s, medians\n",
              file_system_of(c.dir).c_str(), c.dir.c_str(), std::thread::hardware_concurrency(),
              host.release, c.rounds, c.seconds);
  // One table row per measurement that ran: name, median rate, [min .. max] of the rounds,
  // and the ratio the target is stated in.
  auto row = [&](const char* name, const std::vector<double>& v, const std::string& versus) {
    if (v.empty()) return;
    std::printf("%-30s %10.0f events/s %-18s %s\n", name, median(v), spread(v).c_str(), versus.c_str());
  };
  auto times = [](double x, const char* what) {
    char text[96];
    std::snprintf(text, sizeof(text), "%6.2fx %s", x, what);
    return std::string(text);
  };
  row("raw pwrite+fdatasync (256 B)", raw, "");
  row("batpak kSync, 1 appender", sync1, times(ratio(s1, r), "raw     (target >= 0.8x)"));
  row("batpak kSync, 8 appenders", sync8, times(ratio(s8, s1), "single  (target >= 5x)"));
  for (const auto& [n, rates] : sync_n) {
    const std::string name = "batpak kSync, " + std::to_string(n) + " appenders";
    row(name.c_str(), rates, times(ratio(median(rates), s1), "single"));
  }
  row("raw pwrite, no sync (256 B)", rawwrite, "");
  row("batpak kBuffered, 1 appender", buffered, times(b1 / 300000.0, "300k/s  (target >= 1x)") +
                                                    times(ratio(b1, rw), "raw pwrite"));
  row("batpak kAsync, 1 appender", async1, times(a1 / 300000.0, "300k/s"));
  row("sealed kSync, 1 appender", sealed1, times(ratio(median(sealed1), s1), "kSync"));
  row("sealed kBuffered, 1 appender", sealedbuf, times(ratio(median(sealedbuf), b1), "kBuffered"));
  row("sealed kBuffered, new entities", sealednew, "");
  row("  the same, 8 appenders", sealednew8, times(ratio(median(sealednew8), median(sealednew)), "1 appender"));
  if (!single_vs_raw.empty() || !eight_vs_single.empty()) {
    std::printf("ratios within each round: kSync 1/raw median %.2fx, kSync 8/1 median %.2fx\n",
                median(single_vs_raw), median(eight_vs_single));
  }
  if (c.wants("reopen")) {
    std::printf("%-30s %10.3f s for %llu events (%.0f MB): %.1fx a plain read of the same bytes (%.3f s; warm cache)\n",
                "reopen (checksums + chain)", reopen.open_s, static_cast<unsigned long long>(reopen.events),
                static_cast<double>(reopen.data_bytes) / 1e6, ratio(reopen.open_s, reopen.plain_read_s),
                reopen.plain_read_s);
    std::printf("%-30s %10.1f MiB per million events (%.0f B/event)\n", "peak RSS growth during open",
                reopen.bytes_per_event * 1e6 / (1 << 20), reopen.bytes_per_event);
  }
  std::printf("%s\n", report.dump().c_str());
  return 0;
}
