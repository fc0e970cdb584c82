// Cursor workers: a thread that feeds the events of a Region, in batches, to a handler.
//
//   batpak::CursorWorkerConfig config;
//   config.checkpoint_id = "mailer";        // Durable: resumes after a restart.
//   batpak::CursorWorker worker(store, batpak::Region::entity("order"), config,
//       [&](std::span<const batpak::Event> batch, const batpak::AtLeastOnce* witness) {
//         for (const auto& e : batch) send_mail(e);  // Idempotent: batches may repeat.
//         return batpak::WorkerAction::kContinue;    // Commit the batch's checkpoint.
//       });
//   ...
//   worker.request_stop();
//   batpak::Status why = worker.join();     // Ok after a requested or handler stop.
//
// For each batch the handler returns:
// - kContinue: the batch is committed (Cursor::commit: durable with a checkpoint id) and the
//   worker goes on. If the checkpoint cannot be written the position rolls back to the last
//   committed one and the worker stops with that error.
// - kStop: the batch is committed, then the worker stops.
// - kStopWithRollback: the batch is not committed (it is delivered again next time), and
//   the worker stops.
// - an error (the handler returns Result<WorkerAction>): as kStopWithRollback, and the
//   worker stops with that error.
// A handler that throws is restarted from the last committed position (the failed batch is
// delivered again) up to `restarts_max` times; one more throw stops the worker with
// kHandlerFailed. A checkpoint that cannot be loaded at start (kCorruption,
// kCheckpointMismatch, ...) stops the worker with that error; so does the store closing
// (kClosed). Exceptions never leave the worker thread.
//
// Delivery is at-least-once: across restarts only with a checkpoint id (the handler then gets
// an AtLeastOnce witness naming it; without one, nullptr).
//
// Thread safety: request_stop(), committed_position() and join() may be called from any
// thread; join() from one thread at a time. The handler runs on the worker's thread only.
// The Store must outlive the worker; the destructor requests a stop and joins.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>

#include "batpak/cursor.hpp"

namespace batpak {

enum class WorkerAction : uint8_t { kContinue, kStop, kStopWithRollback };

// Given to a handler only when its worker checkpoints durably: a reminder, in the type
// system, that the batch may be a redelivery and the handler's effects must be idempotent.
class AtLeastOnce {
 public:
  const std::string& checkpoint_id() const { return checkpoint_id_; }

 private:
  friend class CursorWorker;
  explicit AtLeastOnce(std::string checkpoint_id) : checkpoint_id_(std::move(checkpoint_id)) {}
  std::string checkpoint_id_;
};

struct CursorWorkerConfig {
  size_t batch_size = 64;          // Events per handler call, at most.
  uint32_t idle_wait_ms = 10;      // Longest wait for new events between stop checks.
  uint32_t restarts_max = 1;       // Handler throws tolerated before kHandlerFailed.
  std::string checkpoint_id;       // Empty: no durable checkpoint (starts at the beginning).
};

using CursorHandler = std::function<Result<WorkerAction>(std::span<const Event> batch, const AtLeastOnce* witness)>;

class CursorWorker {
 public:
  // Starts the worker thread. Errors surface from join().
  CursorWorker(const Store& store, Region region, CursorWorkerConfig config, CursorHandler handler);
  ~CursorWorker();
  CursorWorker(const CursorWorker&) = delete;
  CursorWorker& operator=(const CursorWorker&) = delete;

  // Asks the worker to stop after the batch in hand (without committing a batch the handler
  // has not finished). Returns at once.
  void request_stop() { stop_requested_.store(true); }
  // Waits for the worker to end: Ok after request_stop() or a handler's kStop /
  // kStopWithRollback; otherwise the error that ended it. May be called again (same result).
  Status join();
  // The last committed position (global sequence).
  uint64_t committed_position() const { return committed_position_.load(); }
  // True until the worker thread has ended.
  bool running() const { return running_.load(); }

 private:
  Status run(const Store& store, const Region& region, const CursorWorkerConfig& config, const CursorHandler& handler);
  // Runs one batch through the handler. Returns its result, or nullopt when it threw.
  static std::optional<Result<WorkerAction>> call(const CursorHandler& handler, std::span<const Event> batch,
                                          const AtLeastOnce* witness, std::string& what);

  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> running_{true};
  std::atomic<uint64_t> committed_position_{0};
  std::mutex join_mu_;
  std::optional<Status> outcome_;  // Set by join(). Guarded by join_mu_.
  Status result_;                  // Written by the thread before it ends.
  std::thread thread_;
};

}  // namespace batpak
