// Projection benchmarks (docs/performance.md, "Projections"), side by side in one run:
//  - full replay of one entity's 10,000 events (a sum of one MessagePack field) through
//    Store::project with no cache, vs the same fold over the same payload bytes already in
//    memory (decode + add): target >= 0.5x;
//  - cache hit latency per backend (memory, file, LMDB) on an unchanged entity, next to
//    the no-cache replay of the same entity;
//  - incremental apply of 10 new events to a cached 100,000-event state vs a full replay of
//    the 100,010 events: target >= 100x; then a cache hit on that entity;
//  - three projections of one 10,000-event entity by Store::project_fused vs three
//    Store::project calls with no cache (no target: what one read instead of three saves).
// Every pair is measured alternately; medians of the rounds are reported.
//
// Usage: batpak_bench_projection [--rounds R] [--dir DIR]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "batpak/batpak.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Amount {
  static constexpr batpak::EventKind kKind{0x1001};
  int64_t amount = 0;
  std::string note;  // Pads the payload to about 200 bytes.
  MSGPACK_DEFINE_MAP(amount, note)
};

// What the benchmark's projections share: they fold Amount events, and apply over a suffix
// equals a full fold.
struct AmountFold {
  static constexpr uint64_t kSchemaVersion = 1;
  static constexpr bool kSupportsIncremental = true;
  static std::vector<batpak::EventKind> relevant_kinds() { return {Amount::kKind}; }
};

struct SumAmounts : AmountFold {
  struct State {
    int64_t total = 0;
    MSGPACK_DEFINE_MAP(total)
  };
  static constexpr std::string_view kName = "bench.sum-amounts";
  static batpak::Status apply(State& state, const batpak::Event& event) {
    auto value = batpak::decode_payload<Amount>(event.payload);
    if (!value) return tl::unexpected(value.error());
    state.total += value->amount;
    return {};
  }
};

// Two more views of the same events, for the fused runs: the event count and the largest
// amount.
struct CountAmounts : AmountFold {
  struct State {
    int64_t count = 0;
    MSGPACK_DEFINE_MAP(count)
  };
  static constexpr std::string_view kName = "bench.count-amounts";
  static batpak::Status apply(State& state, const batpak::Event&) {
    ++state.count;
    return {};
  }
};

struct MaxAmount : AmountFold {
  struct State {
    int64_t max = 0;
    MSGPACK_DEFINE_MAP(max)
  };
  static constexpr std::string_view kName = "bench.max-amount";
  static batpak::Status apply(State& state, const batpak::Event& event) {
    auto value = batpak::decode_payload<Amount>(event.payload);
    if (!value) return tl::unexpected(value.error());
    state.max = std::max(state.max, value->amount);
    return {};
  }
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench: %s\n", what.c_str());
  std::exit(1);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Seconds per call of `fn`, median over `rounds` rounds of `calls` calls each.
double time_per_call(int rounds, int calls, const std::function<void()>& fn) {
  std::vector<double> per_call;
  for (int r = 0; r < rounds; ++r) {
    const auto start = Clock::now();
    for (int i = 0; i < calls; ++i) fn();
    per_call.push_back(std::chrono::duration<double>(Clock::now() - start).count() / calls);
  }
  return median(per_call);
}

std::unique_ptr<batpak::Store> open_store(const std::string& dir, std::shared_ptr<batpak::ProjectionCache> cache) {
  batpak::StoreOptions options;
  options.durability = batpak::Durability::kAsync;  // Building the store is not measured.
  options.projection_cache = std::move(cache);
  auto store = batpak::Store::open(dir, options);
  if (!store) die("open: " + store.error().to_string());
  return std::move(*store);
}

const std::string kNote(180, 'n');

void append_amounts(batpak::Store& store, const std::string& entity, int count) {
  const auto coordinate = batpak::Coordinate::make(entity, "bench").value();
  for (int i = 0; i < count; ++i) {
    if (!store.append(coordinate, Amount{i % 100, kNote})) die("append failed");
  }
  if (!store.sync()) die("sync failed");
}

// Projects `entity` and checks the run was what it claims to be.
SumAmounts::State project(batpak::Store& store, const std::string& entity, batpak::CacheStatus want, bool incremental) {
  auto run = store.project<SumAmounts>(entity);
  if (!run || !run->state) die("project failed");
  const auto& o = run->observation;
  if (o.cache_status != want || o.incremental != incremental) {
    die("a measured run was not the kind it claims (cache status " + std::to_string(static_cast<int>(o.cache_status)) +
        ", incremental " + std::to_string(o.incremental) + ")");
  }
  return *run->state;
}

void replay_vs_raw(const std::string& dir, int rounds) {
  auto store = open_store(dir + "/replay", batpak::make_no_cache());
  append_amounts(*store, "acct:replay", 10000);
  std::vector<std::vector<uint8_t>> payloads;
  const auto events = store->query(batpak::Region::entity("acct:replay"));
  if (!events) die("query: " + events.error().to_string());
  for (const batpak::Event& e : *events) payloads.push_back(e.payload);
  int64_t sink = 0;
  const double replay = time_per_call(rounds, 5, [&] {
    sink += project(*store, "acct:replay", batpak::CacheStatus::kBypassed, false).total;
  });
  const double raw = time_per_call(rounds, 5, [&] {
    int64_t total = 0;
    for (const auto& p : payloads) total += batpak::decode_payload<Amount>(p).value().amount;
    sink += total;
  });
  std::printf("| full replay, 10,000 events, sum of a field | %.2f ms | raw fold over the payloads in memory %.2f ms | %.2fx raw (target >= 0.5x) |\n",
              replay * 1e3, raw * 1e3, raw / replay);
  if (sink == 42) std::printf(" ");  // Keeps the folds from being optimised away.
}

void cache_hits(const std::string& dir, int rounds) {
  struct Backend {
    const char* name;
    std::shared_ptr<batpak::ProjectionCache> cache;
  };
  std::vector<Backend> backends{{"memory", batpak::make_memory_cache(64u << 20)},
                                {"file", batpak::make_file_cache(dir + "/file-cache").value()},
                                {"lmdb", batpak::make_lmdb_cache(dir + "/lmdb-cache").value()}};
  for (Backend& b : backends) {
    auto store = open_store(dir + "/hits-" + b.name, b.cache);
    append_amounts(*store, "acct:hit", 1000);
    project(*store, "acct:hit", batpak::CacheStatus::kMiss, false);  // Writes the row.
    const double hit = time_per_call(rounds, 200, [&] { project(*store, "acct:hit", batpak::CacheStatus::kHit, false); });
    store.reset();
    auto uncached = open_store(dir + "/hits-" + b.name, batpak::make_no_cache());
    const double replay = time_per_call(rounds, 20, [&] {
      project(*uncached, "acct:hit", batpak::CacheStatus::kBypassed, false);
    });
    std::printf("| cache hit, %s backend, 1,000-event entity | %.1f us | no-cache replay %.1f us | %.1fx faster |\n",
                b.name, hit * 1e6, replay * 1e6, replay / hit);
  }
}

void incremental_vs_full(const std::string& dir, int rounds) {
  auto store = open_store(dir + "/incremental", batpak::make_memory_cache(64u << 20));
  append_amounts(*store, "acct:big", 100000);
  project(*store, "acct:big", batpak::CacheStatus::kMiss, false);
  auto uncached = [&] { return open_store(dir + "/incremental", batpak::make_no_cache()); };
  std::vector<double> incremental_s, full_s;
  for (int r = 0; r < rounds; ++r) {
    append_amounts(*store, "acct:big", 10);  // Fresh events: the next run must apply them.
    auto start = Clock::now();
    project(*store, "acct:big", batpak::CacheStatus::kHit, true);
    incremental_s.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    store.reset();
    auto plain = uncached();
    start = Clock::now();
    project(*plain, "acct:big", batpak::CacheStatus::kBypassed, false);
    full_s.push_back(std::chrono::duration<double>(Clock::now() - start).count());
    plain.reset();
    store = open_store(dir + "/incremental", batpak::make_memory_cache(64u << 20));
    project(*store, "acct:big", batpak::CacheStatus::kMiss, false);  // Re-warm the new cache.
  }
  const double inc = median(incremental_s), full = median(full_s);
  std::printf("| incremental apply of 10 events on a 100,000-event entity | %.3f ms | full replay %.1f ms | %.0fx faster (target >= 100x) |\n",
              inc * 1e3, full * 1e3, full / inc);
  // A fresh hit must not cost the entity's length (the 1,000-event hits above are the yardstick).
  const double hit = time_per_call(rounds, 200, [&] { project(*store, "acct:big", batpak::CacheStatus::kHit, false); });
  std::printf("| cache hit, memory backend, 100,010-event entity | %.1f us | full replay %.1f ms | %.0fx faster |\n",
              hit * 1e6, full * 1e3, full / hit);
}

// One view's state from project<P>, which must be a no-cache full replay.
template <class P>
typename P::State project_alone(batpak::Store& store, const std::string& entity) {
  auto run = store.project<P>(entity);
  if (!run || !run->state || run->observation.cache_status != batpak::CacheStatus::kBypassed) die("project failed");
  return *run->state;
}

void fused_vs_separate(const std::string& dir, int rounds) {
  auto store = open_store(dir + "/fused", batpak::make_no_cache());
  const std::string entity = "acct:fused";
  append_amounts(*store, entity, 10000);
  int64_t fused_sink = 0, separate_sink = 0;
  const double fused = time_per_call(rounds, 5, [&] {
    auto run = store->project_fused<SumAmounts, CountAmounts, MaxAmount>(entity);
    if (!run) die("project_fused: " + run.error().to_string());
    const auto& [sum, count, max] = run->states;
    if (!sum || !count || !max) die("project_fused gave no state");
    fused_sink += sum->total + count->count + max->max;
  });
  const double separate = time_per_call(rounds, 5, [&] {
    separate_sink += project_alone<SumAmounts>(*store, entity).total + project_alone<CountAmounts>(*store, entity).count +
                     project_alone<MaxAmount>(*store, entity).max;
  });
  // Both ran 5 calls per round over the same unchanged entity: the same results.
  if (fused_sink != separate_sink) die("project_fused and project disagree");
  std::printf("| three projections of a 10,000-event entity, project_fused | %.2f ms | three project calls %.2f ms | %.2fx faster |\n",
              fused * 1e3, separate * 1e3, separate / fused);
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 5;
  std::string parent = "/tmp";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--rounds") rounds = std::max(1, std::atoi(argv[i + 1]));
    else if (flag == "--dir") parent = argv[i + 1];
    else die("usage: batpak_bench_projection [--rounds R] [--dir DIR]");
  }
  std::string dir = parent + "/batpak-bench-projection-XXXXXX";
  if (!::mkdtemp(dir.data())) die("mkdtemp under " + parent);
  std::printf("machine: %u CPUs; payloads ~200 bytes (MessagePack map); %d rounds (medians)\n\n",
              std::thread::hardware_concurrency(), rounds);
  std::printf("| measurement | batpak | baseline | ratio |\n|---|---|---|---|\n");
  replay_vs_raw(dir, rounds);
  cache_hits(dir, rounds);
  incremental_vs_full(dir, rounds);
  fused_vs_separate(dir, rounds);
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  std::printf("\npeak RSS %ld MiB\n", usage.ru_maxrss / 1024);
  std::filesystem::remove_all(dir);
  return 0;
}
