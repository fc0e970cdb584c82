// Instruction-count workloads for the CI lane (scripts/icount, docs/performance.md).
// Each run builds what it needs without instrumentation, then measures one path between
// CALLGRIND_START_INSTRUMENTATION and CALLGRIND_STOP_INSTRUMENTATION, so under
// `valgrind --tool=callgrind --instr-atstart=no` the total Ir is that path alone. Without
// valgrind the macros do nothing and the program only runs its checks.
//
//   batpak_icount --path append|replay|scan [--events N] [--dir PARENT]
//
// append: N appends of 200-byte payloads, round-robin over 100 entities, kBuffered.
// replay: a full replay (Store::project, no cache) of one entity holding all N events.
// scan:   query_after pages of 1000 over all N events (100 entities) in commit order.
//
// The store runs kBuffered with syncs only on request, so every measured instruction runs
// on the calling thread and the writer thread sleeps; kAsync and kSync hand work to the
// writer thread in batches whose sizes depend on scheduling. Reads use a store reopened
// read-only, which has no writer thread at all. The clock is a counter, so timestamps do
// not depend on the time of day. Event ids keep their random bits (the API has no id
// source to inject); hashing costs the same for any bytes.
#include <unistd.h>

#include <valgrind/callgrind.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "batpak/batpak.hpp"

namespace {

constexpr size_t kPayloadBytes = 200;
constexpr int kEntities = 100;
constexpr size_t kPageEvents = 1000;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "batpak_icount: %s\n", what.c_str());
  std::exit(1);
}

// A clock that advances one microsecond per call from a fixed instant.
class CounterClock final : public batpak::Clock {
 public:
  int64_t now_us() override { return kStartUs + next_.fetch_add(1); }

 private:
  static constexpr int64_t kStartUs = 1'767'225'600'000'000;  // 2026-01-01 00:00 UTC.
  std::atomic<int64_t> next_{0};
};

batpak::StoreOptions options(batpak::AccessMode access) {
  batpak::StoreOptions o;
  o.access = access;
  o.durability = batpak::Durability::kBuffered;
  o.sync_every_events = std::numeric_limits<uint32_t>::max();  // Sync only on request.
  o.sync_every_ms = 24u * 3600u * 1000u;
  o.clock = std::make_shared<CounterClock>();
  o.projection_cache = batpak::make_no_cache();
  return o;
}

std::unique_ptr<batpak::Store> open_store(const std::string& dir, batpak::AccessMode access) {
  auto store = batpak::Store::open(dir, options(access));
  if (!store) die("open " + dir + ": " + store.error().to_string());
  return std::move(*store);
}

std::vector<batpak::Coordinate> coordinates(int count) {
  std::vector<batpak::Coordinate> out;
  for (int i = 0; i < count; ++i) {
    out.push_back(batpak::Coordinate::make("icount:" + std::to_string(i), "bench").value());
  }
  return out;
}

// Appends `events` payloads round-robin over `coords`; checks every global sequence.
void append_all(batpak::Store& store, const std::vector<batpak::Coordinate>& coords, uint64_t events) {
  std::vector<uint8_t> payload(kPayloadBytes, 0x42);
  for (uint64_t i = 0; i < events; ++i) {
    payload[0] = static_cast<uint8_t>(i);
    auto receipt = store.append(coords[i % coords.size()], batpak::EventKind{0x1001}, payload);
    if (!receipt) die("append: " + receipt.error().to_string());
    if (receipt->global_sequence != i + 1) die("append returned an unexpected global sequence");
  }
}

// Builds a store of `events` events over `entities` entities and reopens it read-only.
std::unique_ptr<batpak::Store> built_store(const std::string& dir, int entities, uint64_t events) {
  {
    auto store = open_store(dir, batpak::AccessMode::kReadWrite);
    append_all(*store, coordinates(entities), events);
    if (auto s = store->close(); !s) die("close: " + s.error().to_string());
  }
  return open_store(dir, batpak::AccessMode::kReadOnly);
}

// Counts events and payload bytes: a fold cheap enough that the store's work dominates.
struct CountEvents {
  struct State {
    uint64_t events = 0;
    uint64_t bytes = 0;
    MSGPACK_DEFINE_MAP(events, bytes)
  };
  static constexpr std::string_view kName = "icount.count-events";
  static constexpr uint64_t kSchemaVersion = 1;
  static constexpr bool kSupportsIncremental = true;
  static std::vector<batpak::EventKind> relevant_kinds() { return {batpak::EventKind{0x1001}}; }
  static batpak::Status apply(State& state, const batpak::Event& event) {
    state.events += 1;
    state.bytes += event.payload.size();
    return {};
  }
};

void run_append(const std::string& dir, uint64_t events) {
  auto store = open_store(dir, batpak::AccessMode::kReadWrite);
  const auto coords = coordinates(kEntities);
  CALLGRIND_START_INSTRUMENTATION;
  CALLGRIND_ZERO_STATS;
  append_all(*store, coords, events);
  CALLGRIND_STOP_INSTRUMENTATION;
  if (auto s = store->sync(); !s) die("sync: " + s.error().to_string());
  if (store->stats().event_count != events) die("the store does not hold every appended event");
  if (auto s = store->close(); !s) die("close: " + s.error().to_string());
}

void run_replay(const std::string& dir, uint64_t events) {
  auto store = built_store(dir, 1, events);
  CALLGRIND_START_INSTRUMENTATION;
  CALLGRIND_ZERO_STATS;
  auto run = store->project<CountEvents>("icount:0");
  CALLGRIND_STOP_INSTRUMENTATION;
  if (!run) die("project: " + run.error().to_string());
  if (run->observation.cache_status != batpak::CacheStatus::kBypassed || run->observation.incremental) {
    die("the replay was not a full replay without a cache");
  }
  if (!run->state || run->state->events != events || run->state->bytes != events * kPayloadBytes ||
      run->generation != events) {
    die("the replay did not fold every event");
  }
}

void run_scan(const std::string& dir, uint64_t events) {
  auto store = built_store(dir, kEntities, events);
  uint64_t seen = 0;
  uint64_t after = 0;
  bool in_order = true;
  CALLGRIND_START_INSTRUMENTATION;
  CALLGRIND_ZERO_STATS;
  while (true) {
    auto page = store->query_after(batpak::Region::all(), after, kPageEvents);
    if (!page) die("query_after: " + page.error().to_string());
    if (page->empty()) break;
    for (const batpak::Event& e : *page) {
      in_order = in_order && e.header.global_sequence == after + 1;
      after = e.header.global_sequence;
      ++seen;
    }
  }
  CALLGRIND_STOP_INSTRUMENTATION;
  if (!in_order || seen != events) die("the scan did not return every event once, in commit order");
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  uint64_t events = 20000;
  std::string parent = std::filesystem::temp_directory_path().string();
  bool usage_ok = argc % 2 == 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--path") path = argv[i + 1];
    else if (flag == "--events") events = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--dir") parent = argv[i + 1];
    else usage_ok = false;
  }
  if (!usage_ok || (path != "append" && path != "replay" && path != "scan") || events == 0) {
    die("usage: batpak_icount --path append|replay|scan [--events N] [--dir PARENT]");
  }
  std::string dir = parent + "/batpak-icount-XXXXXX";
  if (!::mkdtemp(dir.data())) die("mkdtemp under " + parent);
  const std::string store_dir = dir + "/store";
  if (path == "append") run_append(store_dir, events);
  else if (path == "replay") run_replay(store_dir, events);
  else run_scan(store_dir, events);
  std::filesystem::remove_all(dir);
  std::printf("path=%s events=%llu ok\n", path.c_str(), static_cast<unsigned long long>(events));
  return 0;
}
