// Readers and a rotating writer sharing a budget of two open segment files
// (StoreOptions::open_segment_files_max), so files are closed and opened again under the
// readers all the time. Invariant proved here: every read returns the event that was
// appended, byte for byte, and no read fails. Runs under ThreadSanitizer in CI.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "batpak/batpak.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

const EventKind kKind(0x1001);
constexpr int kReaders = 3;
constexpr int kAppends = 400;

std::string payload_of(uint64_t sequence) {
  std::string text = "event " + std::to_string(sequence) + " ";
  text.resize(180, char('a' + sequence % 26));
  return text;
}

TEST(OpenFilesConcurrency, ReadersSeeEveryEventWhileFilesAreClosedAndReopenedUnderThem) {
  TempDir dir;
  StoreOptions options;
  options.durability = Durability::kBuffered;
  options.segment_bytes_max = 4096;  // A rotation every ~15 events.
  options.open_segment_files_max = 2;
  auto opened = Store::open(dir.sub("store"), options);
  ASSERT_TRUE(opened) << opened.error().to_string();
  Store& store = **opened;
  auto coordinate = Coordinate::make("entity", "scope");
  ASSERT_TRUE(coordinate);

  std::mutex mu;
  std::vector<Receipt> appended;  // Guarded by mu.
  std::atomic<bool> done{false};
  std::atomic<uint64_t> reads{0};
  std::thread writer([&] {
    for (int i = 0; i < kAppends; ++i) {
      // Halfway, the readers get to read before the writer goes on: on a loaded machine the
      // writer could otherwise finish before any reader thread first ran.
      for (int waited_ms = 0; i == kAppends / 2 && reads.load() == 0 && waited_ms < 10'000; ++waited_ms) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      const std::string text = payload_of(static_cast<uint64_t>(i) + 1);
      auto r = store.append(*coordinate, kKind, {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
      if (!r) {
        ADD_FAILURE() << r.error().to_string();
        break;
      }
      std::lock_guard lock(mu);
      appended.push_back(*r);
    }
    done = true;
  });
  std::vector<std::thread> readers;
  for (int t = 0; t < kReaders; ++t) {
    readers.emplace_back([&, t] {
      uint64_t pick = static_cast<uint64_t>(t) * 7919;
      while (!done.load()) {
        Receipt receipt;
        {
          std::lock_guard lock(mu);
          if (appended.empty()) continue;
          pick = pick * 6364136223846793005ull + 1442695040888963407ull;
          receipt = appended[(pick >> 33) % appended.size()];
        }
        auto e = store.get(receipt.event_id);
        ASSERT_TRUE(e) << e.error().to_string();
        ASSERT_EQ(std::string(e->payload.begin(), e->payload.end()), payload_of(receipt.global_sequence));
        if (t == 0) {  // One reader also reads a run of events spread over many segments.
          auto page = store.query_after(Region::all(), 0, 200);
          ASSERT_TRUE(page) << page.error().to_string();
          for (const Event& p : *page) {
            ASSERT_EQ(std::string(p.payload.begin(), p.payload.end()), payload_of(p.header.global_sequence));
          }
        }
        reads.fetch_add(1);
      }
    });
  }
  writer.join();
  for (std::thread& r : readers) r.join();
  EXPECT_GT(reads.load(), 0u);
  EXPECT_GT(store.stats().segment_count, 20u);
  auto report = store.verify();
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_TRUE(report->ok());
}

}  // namespace
}  // namespace batpak::testing
