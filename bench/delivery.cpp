// Delivery benchmarks (docs/performance.md, "Delivery"), side by side in one run:
//  - cursor catch-up over N events (Cursor::poll_batch) vs the raw paged read it is built
//    on (Store::query_after over the same range), alternated, median of rounds;
//  - append-to-subscriber latency (append start to recv return), median and p99, with 1 and
//    16 subscribers, paced: each append waits until every subscriber has received it;
//  - memory per idle subscriber (heap growth over 10,000 idle subscriptions).
//
// Usage: batpak_bench_delivery [--events N] [--rounds R] [--dir DIR]
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "batpak/batpak.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Config {
  uint64_t events = 1000000;
  int rounds = 3;
  std::string dir = "/tmp";
};

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "bench: %s\n", what.c_str());
  std::exit(1);
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// Heap bytes in use (glibc): unlike RSS, not hidden by memory freed earlier and reused.
uint64_t heap_bytes_in_use() { return mallinfo2().uordblks; }

std::unique_ptr<batpak::Store> open_store(const std::string& dir, batpak::Durability durability) {
  batpak::StoreOptions options;
  options.durability = durability;
  auto store = batpak::Store::open(dir, options);
  if (!store) die("open: " + store.error().to_string());
  return std::move(*store);
}

// N events of 200 bytes over 1000 entities, appended in batches of 1000.
void fill(batpak::Store& store, uint64_t events) {
  const std::vector<uint8_t> payload(200, 0x5a);
  std::vector<batpak::BatchItem> batch;
  for (uint64_t i = 0; i < events; ++i) {
    auto coordinate = batpak::Coordinate::make("entity:" + std::to_string(i % 1000), "bench").value();
    batch.push_back({coordinate, batpak::EventKind(0x1001), payload, {}});
    if (batch.size() == 1000 || i + 1 == events) {
      if (auto r = store.append_batch(batch); !r) die("append_batch: " + r.error().to_string());
      batch.clear();
    }
  }
}

// Reads every event of `region` in pages of 4096; returns the count (checked by the caller).
template <class NextPage>
uint64_t drain(NextPage next_page) {
  uint64_t count = 0;
  for (auto page = next_page(); !page.empty(); page = next_page()) count += page.size();
  return count;
}

// Reads every segment file under `dir` in 4 MiB chunks: the floor for a full scan.
double plain_read_seconds(const std::string& dir) {
  std::vector<char> buffer(4u << 20);
  const auto start = Clock::now();
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".seg") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    while (in.read(buffer.data(), static_cast<std::streamsize>(buffer.size())) || in.gcount() > 0) {
    }
  }
  return seconds_since(start);
}

void catch_up(const Config& c, batpak::Store& store, const batpak::Region& region, const char* name) {
  std::vector<double> cursor_s, raw_s;
  uint64_t expected = 0;
  for (int round = 0; round < c.rounds; ++round) {
    auto start = Clock::now();
    batpak::Cursor cursor(store, region);
    const uint64_t via_cursor = drain([&] { return cursor.poll_batch(4096).value(); });
    cursor_s.push_back(seconds_since(start));
    start = Clock::now();
    uint64_t after = 0;
    const uint64_t via_raw = drain([&] {
      auto page = store.query_after(region, after, 4096).value();
      if (!page.empty()) after = page.back().header.global_sequence;
      return page;
    });
    raw_s.push_back(seconds_since(start));
    if (via_cursor != via_raw || (expected && via_cursor != expected)) die("catch-up counts differ");
    expected = via_cursor;
  }
  const double cursor = median(cursor_s), raw = median(raw_s);
  std::printf("| cursor catch-up, %s (%llu events) | %.3f s (%.0f ev/s) | raw query_after pages %.3f s | %.2fx raw |\n",
              name, static_cast<unsigned long long>(expected), cursor, static_cast<double>(expected) / cursor, raw,
              raw / cursor);
}

// Latency from the start of an append to each subscriber's recv, paced one event at a time.
void subscriber_latency(const std::string& dir, int subscribers, int events) {
  auto store = open_store(dir, batpak::Durability::kBuffered);
  std::vector<std::unique_ptr<batpak::Subscription>> subs;
  for (int i = 0; i < subscribers; ++i) subs.push_back(store->subscribe(batpak::Region::all(), 1024));
  std::atomic<Clock::rep> appended_at{0};
  std::atomic<int> received{0};
  std::vector<std::vector<double>> latency_us(static_cast<size_t>(subscribers));
  std::vector<std::thread> threads;
  for (int i = 0; i < subscribers; ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < events; ++n) {
        if (!subs[static_cast<size_t>(i)]->recv(10000)) die("recv failed");
        const auto now = Clock::now().time_since_epoch().count();
        latency_us[static_cast<size_t>(i)].push_back(static_cast<double>(now - appended_at.load()) / 1000.0);
        received.fetch_add(1);
      }
    });
  }
  const auto coordinate = batpak::Coordinate::make("latency", "bench").value();
  const std::vector<uint8_t> payload(200, 1);
  for (int n = 0; n < events; ++n) {
    const int target = (n + 1) * subscribers;
    appended_at.store(Clock::now().time_since_epoch().count());
    if (!store->append(coordinate, batpak::EventKind(0x1001), payload)) die("append failed");
    while (received.load() < target) std::this_thread::yield();
  }
  for (auto& t : threads) t.join();
  std::vector<double> all;
  for (const auto& v : latency_us) all.insert(all.end(), v.begin(), v.end());
  std::printf("| append-to-subscriber latency, %d subscriber%s, kBuffered | median %.1f us | p99 %.1f us | %zu samples |\n",
              subscribers, subscribers == 1 ? "" : "s", median(all), percentile(all, 0.99), all.size());
}

void idle_subscriber_memory(batpak::Store& store) {
  constexpr int kSubscribers = 10000;
  std::vector<std::unique_ptr<batpak::Subscription>> subs;
  subs.reserve(kSubscribers);
  const uint64_t before = heap_bytes_in_use();
  for (int i = 0; i < kSubscribers; ++i) subs.push_back(store.subscribe(batpak::Region::entity("entity:7")));
  const uint64_t after = heap_bytes_in_use();
  std::printf("| memory per idle subscriber | %.0f bytes (heap in use, over %d subscriptions) | | |\n",
              static_cast<double>(after - before) / kSubscribers, kSubscribers);
}

Config parse(int argc, char** argv) {
  Config c;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--events") c.events = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--rounds") c.rounds = std::atoi(argv[i + 1]);
    else if (flag == "--dir") c.dir = argv[i + 1];
    else die("usage: batpak_bench_delivery [--events N] [--rounds R] [--dir DIR]");
  }
  if (c.events == 0 || c.rounds < 1) die("--events and --rounds must be positive");
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  const Config c = parse(argc, argv);
  std::string tmpl = c.dir + "/batpak-bench-delivery-XXXXXX";
  if (!::mkdtemp(tmpl.data())) die("mkdtemp under " + c.dir);
  std::printf("machine: %u CPUs; %llu events of 200 bytes over 1000 entities; %d rounds (medians)\n\n",
              std::thread::hardware_concurrency(), static_cast<unsigned long long>(c.events), c.rounds);
  std::printf("| measurement | batpak | baseline | ratio |\n|---|---|---|---|\n");
  {
    auto store = open_store(tmpl + "/scan", batpak::Durability::kAsync);
    fill(*store, c.events);
    if (auto s = store->sync(); !s) die("sync: " + s.error().to_string());
    catch_up(c, *store, batpak::Region::all(), "all events");
    std::vector<double> plain;
    for (int round = 0; round < c.rounds; ++round) plain.push_back(plain_read_seconds(tmpl + "/scan"));
    std::printf("| plain read of the same segment files (warm page cache) | %.3f s | | |\n", median(plain));
    catch_up(c, *store, batpak::Region::entity("entity:7"), "one entity of 1000");
    idle_subscriber_memory(*store);
  }
  subscriber_latency(tmpl + "/latency1", 1, 2000);
  subscriber_latency(tmpl + "/latency16", 16, 2000);
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  std::printf("\npeak RSS %ld MiB\n", usage.ru_maxrss / 1024);
  std::filesystem::remove_all(tmpl);
  return 0;
}
