// Cursor workers (include/batpak/cursor_worker.hpp): batches, actions, restarts, failures.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "batpak/batpak.hpp"
#include "support/fault_fs.hpp"
#include "support/store_fixture.hpp"

namespace batpak::testing {
namespace {

class CursorWorkerTest : public StoreFixture<> {
 protected:
  void SetUp() override { open(); }
  void append_n(int n) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(store_->append(Coordinate::make("e", "s").value(), EventKind(0x1001), {}));
  }
  static CursorWorkerConfig durable(size_t batch_size = 3) {
    CursorWorkerConfig config;
    config.batch_size = batch_size;
    config.checkpoint_id = "w";
    return config;
  }
  // Records every delivered batch's sequences (thread-safe).
  struct Log {
    std::mutex mu;
    std::vector<std::vector<uint64_t>> batches;
    size_t add(std::span<const Event> batch) {
      std::lock_guard lock(mu);
      std::vector<uint64_t> seqs;
      for (const Event& e : batch) seqs.push_back(e.header.global_sequence);
      batches.push_back(seqs);
      return batches.size();
    }
  };

};

TEST_F(CursorWorkerTest, DeliversEveryEventInBatchesAndCommitsDurably) {
  append_n(10);
  Log log;
  const AtLeastOnce* seen_witness = nullptr;
  std::string witness_id;
  CursorWorker worker(*store_, Region::all(), durable(), [&](std::span<const Event> batch, const AtLeastOnce* w) {
    log.add(batch);
    seen_witness = w;
    if (w) witness_id = w->checkpoint_id();
    return batch.back().header.global_sequence == 10 ? WorkerAction::kStop : WorkerAction::kContinue;
  });
  ASSERT_TRUE(worker.join());
  EXPECT_EQ(log.batches, (std::vector<std::vector<uint64_t>>{{1, 2, 3}, {4, 5, 6}, {7, 8, 9}, {10}}));
  EXPECT_NE(seen_witness, nullptr);
  EXPECT_EQ(witness_id, "w");
  EXPECT_EQ(worker.committed_position(), 10u);
  EXPECT_FALSE(worker.running());
  EXPECT_EQ(Cursor::resume(*store_, Region::all(), "w")->position(), 10u) << "kStop commits first";
}

TEST_F(CursorWorkerTest, WithoutACheckpointThereIsNoWitnessAndRequestStopEndsAnIdleWorker) {
  append_n(1);
  std::atomic<int> calls{0};
  std::atomic<bool> witnessed{false};
  CursorWorker worker(*store_, Region::all(), {}, [&](std::span<const Event>, const AtLeastOnce* w) {
    witnessed = w != nullptr;
    ++calls;
    return WorkerAction::kContinue;
  });
  while (calls.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  worker.request_stop();
  ASSERT_TRUE(worker.join());
  EXPECT_TRUE(worker.join()) << "join twice gives the same outcome";
  EXPECT_EQ(calls.load(), 1);
  EXPECT_FALSE(witnessed.load());
  EXPECT_FALSE(std::filesystem::exists(dir_.sub("store/cursors")));
}

TEST_F(CursorWorkerTest, ThrowingHandlerRestartsFromTheLastCommittedPosition) {
  append_n(7);
  Log log;
  bool thrown = false;
  CursorWorker worker(*store_, Region::all(), durable(), [&](std::span<const Event> batch, const AtLeastOnce*) {
    log.add(batch);
    if (batch.front().header.global_sequence == 4 && !thrown) {
      thrown = true;
      throw std::runtime_error("transient");
    }
    return batch.back().header.global_sequence == 7 ? WorkerAction::kStop : WorkerAction::kContinue;
  });
  ASSERT_TRUE(worker.join());
  EXPECT_EQ(log.batches, (std::vector<std::vector<uint64_t>>{{1, 2, 3}, {4, 5, 6}, {4, 5, 6}, {7}}));
}

TEST_F(CursorWorkerTest, ExhaustedRestartBudgetStopsWithHandlerFailed) {
  append_n(2);
  std::atomic<int> calls{0};
  CursorWorkerConfig config = durable();
  config.restarts_max = 2;
  CursorWorker worker(*store_, Region::all(), config, [&](std::span<const Event>, const AtLeastOnce*) -> WorkerAction {
    ++calls;
    throw 42;  // Not a std::exception: caught all the same.
  });
  auto outcome = worker.join();
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ErrorCode::kHandlerFailed) << outcome.error().to_string();
  EXPECT_EQ(calls.load(), 3) << "the first call and two restarts";
  EXPECT_EQ(worker.committed_position(), 0u);
}

TEST_F(CursorWorkerTest, StopWithRollbackLeavesTheBatchForTheNextWorker) {
  append_n(2);
  {
    CursorWorker worker(*store_, Region::all(), durable(), [&](std::span<const Event>, const AtLeastOnce*) {
      return WorkerAction::kStopWithRollback;
    });
    ASSERT_TRUE(worker.join());
    EXPECT_EQ(worker.committed_position(), 0u);
  }
  Log log;
  CursorWorker next(*store_, Region::all(), durable(), [&](std::span<const Event> batch, const AtLeastOnce*) {
    log.add(batch);
    return WorkerAction::kStop;
  });
  ASSERT_TRUE(next.join());
  EXPECT_EQ(log.batches, (std::vector<std::vector<uint64_t>>{{1, 2}}));
}

TEST_F(CursorWorkerTest, HandlerErrorRollsBackAndStopsWithThatError) {
  append_n(4);
  CursorWorker worker(*store_, Region::all(), durable(2), [&](std::span<const Event> batch, const AtLeastOnce*)
                                                              -> Result<WorkerAction> {
    if (batch.front().header.global_sequence == 3) return make_error(ErrorCode::kDecode, "bad input");
    return WorkerAction::kContinue;
  });
  auto outcome = worker.join();
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ErrorCode::kDecode);
  EXPECT_EQ(worker.committed_position(), 2u) << "the failed batch is not committed";
}

TEST_F(CursorWorkerTest, FailedCheckpointWriteRollsBackAndStopsWithTheError) {
  auto fault = std::make_shared<FaultFs>();
  StoreOptions options;
  options.fs = fault;
  open(options);
  append_n(3);
  fault->fail_nth_sync(1);  // The checkpoint's fsync.
  CursorWorker worker(*store_, Region::all(), durable(), [&](std::span<const Event>, const AtLeastOnce*) {
    return WorkerAction::kContinue;
  });
  auto outcome = worker.join();
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ErrorCode::kIo);
  EXPECT_NE(outcome.error().message.find("checkpoint write failed"), std::string::npos);
  EXPECT_EQ(worker.committed_position(), 0u);
}

TEST_F(CursorWorkerTest, UnreadableCheckpointAndClosedStoreSurfaceFromJoin) {
  std::filesystem::create_directories(dir_.sub("store/cursors"));
  std::ofstream(dir_.sub("store/cursors/w.ckpt")) << "not a checkpoint";
  CursorWorker corrupt(*store_, Region::all(), durable(), [](std::span<const Event>, const AtLeastOnce*) {
    return WorkerAction::kContinue;
  });
  EXPECT_EQ(corrupt.join().error().code, ErrorCode::kCorruption);

  CursorWorker idle(*store_, Region::all(), {}, [](std::span<const Event>, const AtLeastOnce*) {
    return WorkerAction::kContinue;
  });
  ASSERT_TRUE(store_->close());
  EXPECT_EQ(idle.join().error().code, ErrorCode::kClosed);
}

TEST_F(CursorWorkerTest, ACheckpointOfAnotherRegionStopsTheWorkerBeforeAnyDelivery) {
  append_n(4);
  CursorWorker all(*store_, Region::all(), durable(), [](std::span<const Event> batch, const AtLeastOnce*) {
    return batch.back().header.global_sequence == 4 ? WorkerAction::kStop : WorkerAction::kContinue;
  });
  ASSERT_TRUE(all.join());
  std::atomic<int> deliveries{0};
  CursorWorker other(*store_, Region::entity("e"), durable(), [&](std::span<const Event>, const AtLeastOnce*) {
    deliveries.fetch_add(1);
    return WorkerAction::kContinue;
  });
  auto outcome = other.join();
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ErrorCode::kCheckpointMismatch) << outcome.error().to_string();
  EXPECT_EQ(deliveries.load(), 0);
  EXPECT_EQ(Cursor::resume(*store_, Region::all(), "w")->position(), 4u) << "the checkpoint is untouched";
}

}  // namespace
}  // namespace batpak::testing
