// The kAsync queue bound (StoreOptions::async_queue_bytes_max) against a stalled disk.
// Invariant proved here: while the writer thread cannot write, appends that returned never
// hold more than the bound in frame bytes; the appends waiting for room lose nothing once the
// disk moves again, and give up with kClosed or kPoisoned when the store closes or a write
// fails. Runs under ThreadSanitizer in CI (label concurrency).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "batpak/batpak.hpp"
#include "support/assertions.hpp"
#include "support/fault_fs.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

const EventKind kKind(0x1001);
constexpr uint64_t kQueueBytesMax = kAsyncQueueBytesMin;  // 64 KiB.
constexpr size_t kPayloadBytes = 1000;
constexpr int kAppends = 1000;  // About 15 times what the bound lets through.

Coordinate coordinate() {
  auto c = Coordinate::make("stream:1", "s");
  EXPECT_TRUE(c.has_value());
  return *c;
}

// One thread appending kAppends events, counting those that returned, and keeping the
// first error, after which it stops.
class Appender {
 public:
  explicit Appender(Store& store) : thread_([this, &store] { run(store); }) {}
  ~Appender() { join(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  int returned() const { return returned_.load(); }
  bool finished() const { return finished_.load(); }
  std::optional<ErrorCode> error() const { return error_; }  // After join().

 private:
  void run(Store& store) {
    const Coordinate c = coordinate();
    const std::vector<uint8_t> payload(kPayloadBytes, 0x5a);
    for (int i = 0; i < kAppends; ++i) {
      auto receipt = store.append(c, kKind, payload);
      if (!receipt) {
        error_ = receipt.error().code;
        break;
      }
      returned_.fetch_add(1);
    }
    finished_.store(true);
  }

  std::atomic<int> returned_{0};
  std::atomic<bool> finished_{false};
  std::optional<ErrorCode> error_;
  std::thread thread_;
};

// Waits until the writer thread is stuck in a held write and the appender has stopped
// advancing for 200 ms (it waits for room), or has finished. Fails after 20 s.
void wait_until_stalled(const FaultFs& fs, const Appender& appender) {
  using namespace std::chrono_literals;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  int last = -1;
  int stable_polls = 0;
  while (stable_polls < 20 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
    const int now = appender.returned();
    const bool stalled = fs.writes_waiting() > 0 && now == last;
    stable_polls = (stalled || now == kAppends) ? stable_polls + 1 : 0;
    last = now;
  }
  ASSERT_GE(stable_polls, 20) << "the writer never stalled in a held write";
}

class AsyncQueue : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = std::make_shared<FaultFs>();
    options_.durability = Durability::kAsync;
    options_.async_queue_bytes_max = kQueueBytesMax;
    options_.fs = fs_;
    auto store = Store::open(dir(), options_);
    ASSERT_TRUE(store) << store.error().to_string();
    store_ = std::move(*store);
  }
  std::string dir() const { return tmp_.sub("store"); }
  // Reopens the closed store on the real file system.
  std::unique_ptr<Store> reopen() {
    store_.reset();
    auto store = Store::open(dir());
    EXPECT_TRUE(store) << store.error().to_string();
    return store ? std::move(*store) : nullptr;
  }
  // The invariant: what returned fits in the bound (each frame is larger than its payload).
  void expect_bound_held(const Appender& appender) const {
    EXPECT_GE(appender.returned(), 1);
    EXPECT_LE(static_cast<uint64_t>(appender.returned()) * kPayloadBytes, kQueueBytesMax)
        << "appends returned past async_queue_bytes_max while nothing was written";
  }

  TempDir tmp_;
  std::shared_ptr<FaultFs> fs_;
  StoreOptions options_;
  std::unique_ptr<Store> store_;
};

TEST_F(AsyncQueue, AStalledDiskHoldsAppendsAtTheBoundAndLosesNoneOnceItMoves) {
  fs_->hold_writes();
  Appender appender(*store_);
  wait_until_stalled(*fs_, appender);
  expect_bound_held(appender);
  fs_->release_writes();
  appender.join();
  EXPECT_FALSE(appender.error().has_value());
  EXPECT_EQ(appender.returned(), kAppends);
  BATPAK_ASSERT_OK(store_->sync());
  EXPECT_EQ(store_->stats().durable_global_sequence, static_cast<uint64_t>(kAppends));
  BATPAK_ASSERT_OK(store_->close());
  auto reopened = reopen();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->entity_generation("stream:1"), static_cast<uint64_t>(kAppends));
  BATPAK_ASSERT_OK_AND_ASSIGN(report, reopened->verify());
  EXPECT_TRUE(report.ok());
}

TEST_F(AsyncQueue, AnAppendWaitingForRoomFailsWithClosedAndEveryReturnedOneIsKept) {
  fs_->hold_writes();
  Appender appender(*store_);
  wait_until_stalled(*fs_, appender);
  expect_bound_held(appender);
  std::thread closer([this] { BATPAK_ASSERT_OK(store_->close()); });
  // The close wakes the waiting append at once, while every write is still held.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!appender.finished() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(appender.finished()) << "the close did not wake the append waiting for room";
  fs_->release_writes();
  appender.join();
  closer.join();
  ASSERT_TRUE(appender.error().has_value());
  EXPECT_EQ(*appender.error(), ErrorCode::kClosed);
  auto reopened = reopen();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->entity_generation("stream:1"), static_cast<uint64_t>(appender.returned()));
}

TEST_F(AsyncQueue, AFailedWriteWakesAppendsWaitingForRoomWithPoisoned) {
  fs_->hold_writes();
  Appender appender(*store_);
  wait_until_stalled(*fs_, appender);
  expect_bound_held(appender);
  fs_->fail_nth_write(1);  // The held write fails once released.
  fs_->release_writes();
  appender.join();
  ASSERT_TRUE(appender.error().has_value());
  EXPECT_EQ(*appender.error(), ErrorCode::kPoisoned);
  EXPECT_FALSE(store_->close().has_value());
  auto reopened = reopen();
  ASSERT_NE(reopened, nullptr);
  EXPECT_LE(reopened->entity_generation("stream:1"), static_cast<uint64_t>(appender.returned()));
  BATPAK_ASSERT_OK_AND_ASSIGN(report, reopened->verify());
  EXPECT_TRUE(report.ok());
}

TEST_F(AsyncQueue, ACommitLargerThanTheBoundAloneWaitsOnlyForAnEmptyQueue) {
  std::vector<BatchItem> batch;
  for (int i = 0; i < 100; ++i) {  // 100 KB of payload: more than the 64 KiB bound.
    batch.push_back(BatchItem{coordinate(), kKind, std::vector<uint8_t>(kPayloadBytes, 1), {}});
  }
  BATPAK_ASSERT_OK(store_->append_batch(batch));
  BATPAK_ASSERT_OK(store_->append_batch(batch));  // Waits for the first, then goes alone.
  BATPAK_ASSERT_OK(store_->sync());
  EXPECT_EQ(store_->entity_generation("stream:1"), 200u);
}

TEST(AsyncQueueOptions, BoundsOutsideTheLimitsAreRefused) {
  TempDir tmp;
  StoreOptions options;
  options.durability = Durability::kAsync;
  for (uint64_t bytes : {kAsyncQueueBytesMin - 1, kAsyncQueueBytesMax + 1}) {
    options.async_queue_bytes_max = bytes;
    BATPAK_EXPECT_ERROR(Store::open(tmp.sub("store"), options), ErrorCode::kInvalidArgument);
  }
  options.async_queue_bytes_max = kAsyncQueueBytesMin;
  BATPAK_ASSERT_OK(Store::open(tmp.sub("store"), options));
}

}  // namespace
}  // namespace batpak::testing
