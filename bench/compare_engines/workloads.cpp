// The workloads of issue 7 (see workloads.hpp).
#include "workloads.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "../bench_common.hpp"
#include "util/hash.hpp"

namespace engines {

using bench::Clock;
using bench::elapsed_s;

const std::vector<std::vector<uint8_t>>& payload_pool() {
  static const std::vector<std::vector<uint8_t>> pool = [] {
    std::vector<std::vector<uint8_t>> out(1024, std::vector<uint8_t>(kPayloadBytes));
    uint64_t state = 0x9E3779B97F4A7C15ull;
    for (auto& payload : out) {
      for (auto& byte : payload) {  // splitmix64: incompressible, deterministic bytes.
        state += 0x9E3779B97F4A7C15ull;
        uint64_t z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        byte = static_cast<uint8_t>(z ^ (z >> 31));
      }
    }
    return out;
  }();
  return pool;
}

namespace {
std::atomic<bool> g_baseline_hashes{true};
}  // namespace

void set_baseline_hashes(bool on) { g_baseline_hashes = on; }

Producer::Producer(bool chain) : chain_(chain && g_baseline_hashes.load()), seq_(kEntities, 0), prev_(kEntities, Hash{}) {}

Row Producer::make(uint32_t entity) {
  const auto& pool = payload_pool();
  Row row;
  row.entity = entity;
  row.payload = pool[count_++ % pool.size()];
  row.seq = ++seq_.at(entity);
  if (chain_) {
    row.prev_hash = prev_[entity];
    uint8_t fields[14];
    put_be(fields, entity, 4);
    put_be(fields + 4, row.seq, 8);
    put_be(fields + 12, row.kind, 2);
    batpak::util::Blake3 hasher;
    hasher.update(row.prev_hash);
    hasher.update(fields);
    hasher.update(row.payload);
    row.event_hash = hasher.finish().bytes;
    prev_[entity] = row.event_hash;
  }
  return row;
}

double measure_write(Engine& engine, const std::string& dir, const WriteSpec& spec) {
  std::filesystem::remove_all(dir);
  if (!engine.open(dir, spec.mode)) {
    std::fprintf(stderr, "%s: open %s: %s\n", engine.name().c_str(), dir.c_str(), engine.error().c_str());
    std::filesystem::remove_all(dir);
    return 0;
  }
  std::atomic<uint64_t> total{0};
  std::atomic<bool> failed{false};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < spec.writers; ++t) {
    threads.emplace_back([&, t] {
      const auto first = static_cast<uint32_t>(t), step = static_cast<uint32_t>(spec.writers);
      const uint32_t owned = (kEntities - first + step - 1) / step;
      Producer producer(engine.wants_chain());
      std::vector<Row> rows(spec.per_commit);
      uint64_t next = 0, committed = 0;
      while (!failed.load(std::memory_order_relaxed) && elapsed_s(start) < spec.seconds) {
        for (Row& row : rows) row = producer.make(first + step * static_cast<uint32_t>(next++ % owned));
        if (!engine.commit(rows)) {
          if (!failed.exchange(true)) std::fprintf(stderr, "%s: commit: %s\n", engine.name().c_str(), engine.error().c_str());
          break;
        }
        committed += rows.size();
      }
      total += committed;
    });
  }
  for (auto& thread : threads) thread.join();
  const double rate = static_cast<double>(total.load()) / elapsed_s(start);
  if (!engine.close()) {
    std::fprintf(stderr, "%s: close: %s\n", engine.name().c_str(), engine.error().c_str());
    failed = true;
  }
  std::filesystem::remove_all(dir);
  return failed ? 0 : rate;
}

void disk_usage(const std::string& dir, uint64_t& file_bytes, uint64_t& allocated_bytes) {
  file_bytes = allocated_bytes = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    struct stat st {};
    if (!entry.is_regular_file() || ::stat(entry.path().c_str(), &st) != 0) continue;
    file_bytes += static_cast<uint64_t>(st.st_size);
    allocated_bytes += static_cast<uint64_t>(st.st_blocks) * 512;
  }
}

namespace {

uint32_t entity_of(StoreShape shape, uint64_t i) {
  if (shape == StoreShape::kScan) return static_cast<uint32_t>(i % kEntities);
  if (i % 2 == 0) return kHotEntity;
  const uint64_t j = i / 2;
  if (j % (kHotEvents / 1000) == 0) return kThousandEntity;
  return 2 + static_cast<uint32_t>(j % (kEntities - 2));
}

}  // namespace

Built build_store(Engine& engine, const std::string& dir, StoreShape shape, uint64_t events) {
  Built built;
  built.events = events;
  std::filesystem::remove_all(dir);
  const auto start = Clock::now();
  if (!engine.open(dir, Mode::kBulk)) {
    std::fprintf(stderr, "%s: open %s: %s\n", engine.name().c_str(), dir.c_str(), engine.error().c_str());
    return built;
  }
  Producer producer(engine.wants_chain());
  std::vector<Row> rows;
  rows.reserve(1000);
  for (uint64_t i = 0; i < events; ++i) {
    const uint32_t entity = entity_of(shape, i);
    rows.push_back(producer.make(entity));
    built.logical_bytes += engine.logical_bytes(entity, kPayloadBytes);
    if (rows.size() == 1000 || i + 1 == events) {
      if (!engine.commit(rows)) {
        std::fprintf(stderr, "%s: build commit: %s\n", engine.name().c_str(), engine.error().c_str());
        engine.close();
        return built;
      }
      rows.clear();
    }
  }
  if (!engine.close()) {
    std::fprintf(stderr, "%s: build close: %s\n", engine.name().c_str(), engine.error().c_str());
    return built;
  }
  built.seconds = elapsed_s(start);
  disk_usage(dir, built.file_bytes, built.allocated_bytes);
  built.ok = true;
  return built;
}

namespace {

// Runs `read` once untimed (checked), then timed until `budget_s` passed and at least
// `min_runs` ran; returns the median seconds per run, 0 on failure.
template <class Read>
double timed_reads(Engine& engine, const char* what, uint64_t events, double budget_s, int min_runs, Read&& read) {
  std::vector<double> runs;
  const auto start = Clock::now();
  for (int run = -1; run < min_runs || elapsed_s(start) < budget_s; ++run) {
    Tally tally;
    const auto t0 = Clock::now();
    const bool ok = read(tally);
    const double seconds = elapsed_s(t0);
    if (!ok || tally.events != events || !tally.in_order) {
      std::fprintf(stderr, "%s: %s: %s (%llu events of %llu, %s)\n", engine.name().c_str(), what,
                   ok ? "wrong result" : engine.error().c_str(), static_cast<unsigned long long>(tally.events),
                   static_cast<unsigned long long>(events), tally.in_order ? "in order" : "out of order");
      return 0;
    }
    if (run >= 0) runs.push_back(seconds);
  }
  return bench::median(runs);
}

}  // namespace

double measure_replay(Engine& engine, uint32_t entity, uint64_t events, double budget_s) {
  return timed_reads(engine, "replay", events, budget_s, 3,
                     [&](Tally& tally) { return engine.replay_entity(entity, tally); });
}

double measure_scan(Engine& engine, uint64_t events, double budget_s) {
  return timed_reads(engine, "scan", events, budget_s, 1, [&](Tally& tally) { return engine.scan_all(tally); });
}

int reopen_child(const std::string& name, const std::string& dir, uint64_t events, bool scan) {
  auto engine = make_engine(name);
  if (!engine) return 2;
  const uint64_t before_kib = bench::status_kib("VmRSS:");
  auto start = Clock::now();
  if (!engine->open(dir, Mode::kDurable)) {
    std::fprintf(stderr, "%s: reopen: %s\n", name.c_str(), engine->error().c_str());
    return 1;
  }
  const double open_s = elapsed_s(start);
  const std::string open_note = engine->open_note();
  Tally first;
  start = Clock::now();
  const bool queried = engine->replay_entity(0, first);
  const double query_s = elapsed_s(start);
  const uint64_t expected = (events + kEntities - 1) / kEntities;
  if (!queried || first.events != expected || !first.in_order) {
    std::fprintf(stderr, "%s: first query: %s (%llu events)\n", name.c_str(), engine->error().c_str(),
                 static_cast<unsigned long long>(first.events));
    return 1;
  }
  const uint64_t peak_kib = bench::peak_rss_kib();
  uint64_t peak_scan_kib = 0;
  if (scan) {
    Tally all;
    if (!engine->scan_all(all) || all.events != events) {
      std::fprintf(stderr, "%s: scan in reopen child: %s\n", name.c_str(), engine->error().c_str());
      return 1;
    }
    peak_scan_kib = bench::peak_rss_kib();
  }
  if (!engine->close()) return 1;
  std::printf("%s\n", nlohmann::json{{"open_s", open_s},
                                      {"first_query_s", query_s},
                                      {"rss_before_kib", before_kib},
                                      {"peak_rss_kib", peak_kib},
                                      {"peak_rss_scan_kib", peak_scan_kib},
                                      {"open_note", open_note}}
                          .dump()
                          .c_str());
  return 0;
}

Reopen measure_reopen(const std::string& self, const std::string& engine, const std::string& dir, uint64_t events,
                      bool scan) {
  Reopen r;
  const std::string command = "'" + self + "' --reopen-child " + engine + " '" + dir + "' " + std::to_string(events) +
                              (scan ? " scan" : " noscan");
  const std::optional<nlohmann::json> reply = bench::run_json_child(command);
  if (!reply) return r;
  const nlohmann::json& j = *reply;
  r.open_s = j["open_s"];
  r.first_query_s = j["first_query_s"];
  r.rss_before_kib = j["rss_before_kib"];
  r.peak_rss_kib = j["peak_rss_kib"];
  r.peak_rss_scan_kib = j["peak_rss_scan_kib"];
  r.open_note = j["open_note"];
  r.ok = true;
  return r;
}

double measure_read(const std::string& dir, bool hash, uint64_t& bytes) {
  const auto start = Clock::now();
  if (hash) {
    batpak::util::Blake3 hasher;
    bytes = bench::read_all_files(dir, "", [&](const uint8_t* data, size_t size) { hasher.update({data, size}); });
    volatile uint8_t sink = hasher.finish().bytes[0];
    (void)sink;
  } else {
    bytes = bench::read_all_files(dir);
  }
  return elapsed_s(start);
}

double measure_blake3(uint64_t count) {
  const auto& pool = payload_pool();
  uint8_t folded = 0;
  const auto start = Clock::now();
  for (uint64_t i = 0; i < count; ++i) folded ^= batpak::util::blake3(pool[i % pool.size()]).bytes[0];
  const double seconds = elapsed_s(start);
  volatile uint8_t sink = folded;
  (void)sink;
  return static_cast<double>(count) / seconds;
}

}  // namespace engines
