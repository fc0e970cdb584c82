// batpak_compare_engines: the engines comparison of issue 7. Runs the same workloads on
// batpak, SQLite, RocksDB and LMDB (and the raw file baselines of W7) in alternation, the
// engine order rotated every round, each measurement on a fresh directory under --dir;
// reports medians, batpak's speed ratios and the targets as Markdown, then one JSON
// object with every round's value. Only ratios from one run mean anything on a shared box.
//
//   batpak_compare_engines [--dir /tmp] [--seconds 2] [--rounds 3] [--quick]
//                          [--events 1000000] [--only w1,...,w7] [--engines batpak,sqlite,...]
//                          [--no-baseline-hashes]
#include <lmdb.h>
#include <rocksdb/version.h>
#include <sqlite3.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../bench_common.hpp"
#include "report.hpp"
#include "workloads.hpp"

namespace engines {
namespace {

struct Config {
  std::string dir = "/tmp";
  double seconds = 2.0;
  bool seconds_given = false;
  int rounds = 3;
  bool quick = false;
  uint64_t events = 1'000'000;  // The W5/W6 store.
  bool events_given = false;
  std::set<std::string> only;
  std::vector<std::string> engines = {"batpak", "sqlite", "rocksdb", "lmdb"};
  bool baseline_hashes = true;

  bool wants(const std::string& w) const { return only.empty() || only.count(w) > 0; }
  bool has(const std::string& engine) const {
    return std::find(engines.begin(), engines.end(), engine) != engines.end();
  }
};

void usage(FILE* to) {
  std::fprintf(to,
               "usage: batpak_compare_engines [--dir DIR] [--seconds S] [--rounds N] [--quick] [--events N]\n"
               "                              [--only w1,w2,w3,w4,w5,w6,w7] [--engines batpak,sqlite,rocksdb,lmdb]\n"
               "                              [--no-baseline-hashes]\n"
               "  --dir        parent of the fresh store directories (default /tmp)\n"
               "  --seconds    duration of each write measurement; reads use half (default 2, --quick 1)\n"
               "  --rounds     rounds, engine order rotated each round; medians reported (default 3)\n"
               "  --quick      W5/W6 store of 100,000 events instead of 1,000,000, --seconds 1\n"
               "  --events     events in the W5/W6 store (overrides --quick)\n"
               "  --only       workloads to run (default all; w7 is the raw column)\n"
               "  --engines    engines to run (default all four)\n"
               "  --no-baseline-hashes  baselines store zero hash columns instead of a BLAKE3 chain\n");
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

bool parse(int argc, char** argv, Config& c) {
  static const std::set<std::string> kWorkloads = {"w1", "w2", "w3", "w4", "w5", "w6", "w7"};
  static const std::set<std::string> kEngines = {"batpak", "sqlite", "rocksdb", "lmdb"};
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      usage(stdout);
      std::exit(0);
    }
    if (flag == "--quick") {
      c.quick = true;
      continue;
    }
    if (flag == "--no-baseline-hashes") {
      c.baseline_hashes = false;
      continue;
    }
    if (i + 1 >= argc) return false;
    const std::string value = argv[++i];
    try {
      if (flag == "--dir") {
        c.dir = value;
      } else if (flag == "--seconds") {
        c.seconds = std::stod(value);
        c.seconds_given = true;
      } else if (flag == "--rounds") {
        c.rounds = std::stoi(value);
      } else if (flag == "--events") {
        c.events = std::stoull(value);
        c.events_given = true;
      } else if (flag == "--only") {
        for (const std::string& w : split(value)) {
          if (kWorkloads.count(w) == 0) return false;
          c.only.insert(w);
        }
      } else if (flag == "--engines") {
        c.engines.clear();
        for (const std::string& e : split(value)) {
          if (kEngines.count(e) == 0) return false;
          c.engines.push_back(e);
        }
      } else {
        return false;
      }
    } catch (const std::exception&) {
      return false;
    }
  }
  if (c.quick && !c.events_given) c.events = 100'000;
  if (c.quick && !c.seconds_given) c.seconds = 1.0;
  return c.seconds > 0 && c.rounds > 0 && c.events >= kEntities && !c.engines.empty();
}

std::string fresh_dir(const Config& c, const std::string& name) {
  std::string path = c.dir + "/batpak-engines-" + std::to_string(::getpid()) + "-" + name;
  std::filesystem::remove_all(path);
  return path;
}

// The columns of round `round`: the engines (plus "raw" when W7 runs and `with_raw`),
// rotated by the round number so no engine always runs first or last.
std::vector<std::string> order_of(const Config& c, int round, bool with_raw) {
  std::vector<std::string> columns = c.engines;
  if (with_raw && c.wants("w7")) columns.push_back("raw");
  std::rotate(columns.begin(), columns.begin() + static_cast<std::ptrdiff_t>(round) % static_cast<std::ptrdiff_t>(columns.size()),
              columns.end());
  return columns;
}

// One write workload row; `raw` is its W7 baseline when `has_raw`.
struct WriteWorkload {
  const char* workload;  // --only name
  const char* row;
  Mode mode;
  int writers;
  size_t per_commit;
  bool has_raw;
  bench::RawAppend raw;
  const char* raw_note;
};

void run_writes(const Config& c, Results& results) {
  const std::vector<WriteWorkload> workloads = {
      {"w1", kW1One, Mode::kDurable, 1, 1, true, {kRawRecordBytes, 1, 1, false, 0},
       "pwrite of one 256-byte record + fdatasync, in a loop"},
      {"w1", kW1Eight, Mode::kDurable, 8, 1, false, {}, ""},
      {"w2", kW2Hundred, Mode::kDurable, 1, 100, true, {kRawRecordBytes, 100, 1, false, 0},
       "one pwrite of 100 256-byte records + fdatasync, in a loop"},
      {"w2", kW2Thousand, Mode::kDurable, 1, 1000, true, {kRawRecordBytes, 1000, 1, false, 0},
       "one pwrite of 1000 256-byte records + fdatasync, in a loop (the raw append log)"},
      {"w3", kW3, Mode::kBuffered, 1, 1, true, {kRawRecordBytes, 1, 0, true, 0},
       "sequential pwrite of 256-byte records, one per call, then one fdatasync (inside the time)"},
  };
  for (int round = 0; round < c.rounds; ++round) {
    for (const WriteWorkload& w : workloads) {
      // The engines run with their workload, the raw column with w7.
      const bool engines_on = c.wants(w.workload), raw_on = w.has_raw && c.wants("w7");
      if (!engines_on && !raw_on) continue;
      for (const std::string& column : order_of(c, round, w.has_raw)) {
        if (column == "raw" ? !raw_on : !engines_on) continue;
        double rate = 0;
        if (column == "raw") {
          bench::RawAppend how = w.raw;
          how.seconds = c.seconds;
          rate = bench::raw_append_rate(fresh_dir(c, "raw"), how);
          results.raw_notes[w.row] = w.raw_note;
        } else {
          auto engine = make_engine(column);
          WriteSpec spec{w.mode, w.writers, w.per_commit, c.seconds};
          rate = measure_write(*engine, fresh_dir(c, column), spec);
        }
        results.add(w.row, "events/s", true, column, rate);
        std::fprintf(stderr, "round %d  %-40s %-8s %12.0f events/s\n", round + 1, w.row, column.c_str(), rate);
      }
    }
    if (c.wants("w7")) {
      const double rate = measure_blake3(c.events);
      results.add(kW7Blake3, "payloads/s", true, "raw", rate);
      results.raw_notes[kW7Blake3] = "one BLAKE3 hash per 200-byte payload, single thread, in memory";
      std::fprintf(stderr, "round %d  %-40s %-8s %12.0f payloads/s\n", round + 1, kW7Blake3, "raw", rate);
    }
  }
}

void run_reads(const Config& c, const std::string& self, Results& results) {
  const bool scan_store = c.wants("w5") || c.wants("w6") || c.wants("w7");
  const bool replay_store = c.wants("w4");
  if (!scan_store && !replay_store) return;
  // The raw column (w7) reads batpak's W5 store, or the first engine's when batpak is not run.
  const std::string raw_source = c.has("batpak") ? "batpak" : c.engines.front();
  std::map<std::string, std::string> scan_dirs, replay_dirs;
  for (const std::string& name : c.engines) {
    auto engine = make_engine(name);
    if ((c.wants("w5") || c.wants("w6")) || (c.wants("w7") && name == raw_source)) {
      scan_dirs[name] = fresh_dir(c, name + "-scan");
      const Built b = build_store(*engine, scan_dirs[name], StoreShape::kScan, c.events);
      std::fprintf(stderr, "built the %s scan store: %llu events in %.1f s, %llu bytes allocated\n", name.c_str(),
                   static_cast<unsigned long long>(b.events), b.seconds, static_cast<unsigned long long>(b.allocated_bytes));
      if (!b.ok) scan_dirs.erase(name);
      StoreFacts& f = results.stores[name];
      f.events = b.events;
      f.build_s = b.seconds;
      f.file_bytes = b.file_bytes;
      f.allocated_bytes = b.allocated_bytes;
      f.logical_bytes = b.logical_bytes;
    }
    if (replay_store) {
      replay_dirs[name] = fresh_dir(c, name + "-replay");
      const Built b = build_store(*engine, replay_dirs[name], StoreShape::kReplay, 2 * kHotEvents);
      std::fprintf(stderr, "built the %s replay store: %llu events in %.1f s\n", name.c_str(),
                   static_cast<unsigned long long>(b.events), b.seconds);
      if (!b.ok) replay_dirs.erase(name);
    }
  }
  const double budget = c.seconds / 2;
  for (int round = 0; round < c.rounds; ++round) {
    for (const std::string& column : order_of(c, round, scan_store)) {
      if (column == "raw") {
        if (!scan_dirs.count(raw_source)) continue;
        uint64_t bytes = 0;
        {
          results.add(kW5, "s", false, "raw", measure_read(scan_dirs[raw_source], false, bytes));
          results.raw_notes[kW5] = "read() in 4 MiB chunks of every file of the " + raw_source + " W5 store (warm page cache)";
        }
        {
          results.add(kW6Open, "s", false, "raw", measure_read(scan_dirs[raw_source], true, bytes));
          results.raw_notes[kW6Open] = "read() + one BLAKE3 stream over every byte of the " + raw_source + " W5 store (warm)";
          // batpak's index checkpoint, when the store has one (written at close).
          const std::string checkpoint = scan_dirs[raw_source] + "/index.checkpoint";
          if (raw_source == "batpak" && std::filesystem::exists(checkpoint)) {
            const auto t0 = bench::Clock::now();
            bench::read_all_files(scan_dirs[raw_source], ".checkpoint");
            results.add(kW6CheckpointRead, "s", false, "raw", bench::elapsed_s(t0));
            results.raw_notes[kW6CheckpointRead] = "read() of the batpak W5 store's index.checkpoint file (" +
                                                   std::to_string(std::filesystem::file_size(checkpoint)) + " bytes, warm)";
          }
        }
        continue;
      }
      if (c.wants("w6") && scan_dirs.count(column)) {
        const Reopen r = measure_reopen(self, column, scan_dirs[column], c.events, round == 0);
        results.add(kW6Open, "s", false, column, r.ok ? r.open_s : 0);
        results.add(kW6Query, "ms", false, column, r.ok ? r.first_query_s * 1e3 : 0);
        if (r.ok && round == 0) {
          results.stores[column].rss_before_kib = r.rss_before_kib;
          results.stores[column].peak_rss_kib = r.peak_rss_kib;
          results.stores[column].peak_rss_scan_kib = r.peak_rss_scan_kib;
        }
        std::fprintf(stderr, "round %d  reopen %-8s %.3f s, first query %.3f ms %s\n", round + 1, column.c_str(), r.open_s,
                     r.first_query_s * 1e3, r.open_note.c_str());
        if (column == "batpak") {
          // The store was closed with its checkpoint, which leaves no footers: one untimed
          // open and close without the checkpoint writes them.
          if (round == 0) (void)measure_reopen(self, "batpak-footers", scan_dirs[column], c.events, false);
          const Reopen footers = measure_reopen(self, "batpak-footers", scan_dirs[column], c.events, false);
          results.add(kW6OpenFooters, "s", false, column, footers.ok ? footers.open_s : 0);
          std::fprintf(stderr, "round %d  reopen %-8s %.3f s %s\n", round + 1, "batpak (footers)", footers.open_s,
                       footers.open_note.c_str());
          const Reopen full = measure_reopen(self, "batpak-fullscan", scan_dirs[column], c.events, false);
          results.add(kW6OpenFullScan, "s", false, column, full.ok ? full.open_s : 0);
          std::fprintf(stderr, "round %d  reopen %-8s %.3f s %s\n", round + 1, "batpak (full scan)", full.open_s,
                       full.open_note.c_str());
        }
      }
      auto engine = make_engine(column);
      if (c.wants("w4") && replay_dirs.count(column)) {
        if (engine->open(replay_dirs[column], Mode::kDurable)) {
          results.add(kW4Thousand, "ms", false, column, 1e3 * measure_replay(*engine, kThousandEntity, 1000, budget));
          results.add(kW4Hot, "ms", false, column, 1e3 * measure_replay(*engine, kHotEntity, kHotEvents, budget));
          engine->close();
        } else {
          std::fprintf(stderr, "%s: open: %s\n", column.c_str(), engine->error().c_str());
          results.add(kW4Thousand, "ms", false, column, 0);
          results.add(kW4Hot, "ms", false, column, 0);
        }
        std::fprintf(stderr, "round %d  replay %-8s 1,000: %.3f ms, 100,000: %.3f ms\n", round + 1, column.c_str(),
                     results.find(kW4Thousand)->rounds.at(column).back(), results.find(kW4Hot)->rounds.at(column).back());
      }
      if (c.wants("w5") && scan_dirs.count(column)) {
        double seconds = 0;
        if (engine->open(scan_dirs[column], Mode::kDurable)) {
          seconds = measure_scan(*engine, c.events, budget);
          engine->close();
        } else {
          std::fprintf(stderr, "%s: open: %s\n", column.c_str(), engine->error().c_str());
        }
        results.add(kW5, "s", false, column, seconds);
        std::fprintf(stderr, "round %d  scan %-8s %.3f s\n", round + 1, column.c_str(), seconds);
      }
    }
  }
  for (const auto& [name, path] : scan_dirs) std::filesystem::remove_all(path);
  for (const auto& [name, path] : replay_dirs) std::filesystem::remove_all(path);
}

}  // namespace
}  // namespace engines

int main(int argc, char** argv) {
  using namespace engines;
  if (argc == 6 && std::string(argv[1]) == "--reopen-child") {
    return reopen_child(argv[2], argv[3], std::stoull(argv[4]), std::string(argv[5]) == "scan");
  }
  Config c;
  if (!parse(argc, argv, c)) {
    usage(stderr);
    return 2;
  }
  set_baseline_hashes(c.baseline_hashes);
  std::string command;
  for (int i = 0; i < argc; ++i) command += std::string(i ? " " : "") + argv[i];
  utsname host{};
  ::uname(&host);
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  std::printf("command: %s\n", command.c_str());
  std::printf("machine: %u CPUs, kernel %s, %s under %s; SQLite %s, RocksDB %d.%d.%d, %s\n",
              std::thread::hardware_concurrency(), host.release, bench::file_system_of(c.dir).c_str(), c.dir.c_str(),
              sqlite3_libversion(), ROCKSDB_MAJOR, ROCKSDB_MINOR, ROCKSDB_PATCH, mdb_version(nullptr, nullptr, nullptr));
  std::printf("%d rounds, engine order rotated per round; writes %.1f s each, reads %.1f s each; W5/W6 store %llu events; "
              "page cache warm (dropping it needs root)\n",
              c.rounds, c.seconds, c.seconds / 2, static_cast<unsigned long long>(c.events));
  std::fflush(stdout);

  Results results;
  const auto start = bench::Clock::now();
  run_writes(c, results);
  run_reads(c, self, results);
  const double total_s = bench::elapsed_s(start);

  const std::vector<Target> targets = evaluate_targets(results);
  print_markdown(results, targets);
  std::printf("\nwhole run: %.0f s\n", total_s);

  nlohmann::json settings = nlohmann::json::object();
  for (const std::string& name : c.engines) {
    auto engine = make_engine(name);
    settings[name] = {{"durable", engine->settings(Mode::kDurable)},
                      {"buffered", engine->settings(Mode::kBuffered)},
                      {"bulk_load", engine->settings(Mode::kBulk)}};
  }
  nlohmann::json report = to_json(results, targets);
  report["command"] = command;
  report["machine"] = {{"cpus", std::thread::hardware_concurrency()},
                       {"kernel", std::string(host.release)},
                       {"file_system", bench::file_system_of(c.dir)},
                       {"dir", c.dir},
                       {"sqlite", sqlite3_libversion()},
                       {"rocksdb", std::to_string(ROCKSDB_MAJOR) + "." + std::to_string(ROCKSDB_MINOR) + "." +
                                       std::to_string(ROCKSDB_PATCH)},
                       {"lmdb", mdb_version(nullptr, nullptr, nullptr)},
                       {"page_cache", "warm: nothing dropped (needs root)"}};
  report["config"] = {{"seconds_per_write_measurement", c.seconds},
                      {"seconds_per_read_measurement", c.seconds / 2},
                      {"rounds", c.rounds},
                      {"scan_store_events", c.events},
                      {"replay_store_events", 2 * kHotEvents},
                      {"payload_bytes", kPayloadBytes},
                      {"entities", kEntities},
                      {"raw_record_bytes", kRawRecordBytes},
                      {"baseline_hashes", c.baseline_hashes},
                      {"engines", c.engines},
                      {"total_seconds", total_s}};
  report["settings"] = settings;
  std::printf("\n%s\n", report.dump().c_str());
  return 0;
}
