#include "batpak/cursor_worker.hpp"

namespace batpak {

CursorWorker::CursorWorker(const Store& store, Region region, CursorWorkerConfig config, CursorHandler handler) {
  thread_ = std::thread([this, &store, region = std::move(region), config = std::move(config),
                         handler = std::move(handler)] {
    result_ = run(store, region, config, handler);
    running_.store(false);
  });
}

CursorWorker::~CursorWorker() {
  request_stop();
  (void)join();
}

Status CursorWorker::join() {
  std::lock_guard lock(join_mu_);
  if (!outcome_) {
    if (thread_.joinable()) thread_.join();
    outcome_ = result_;
  }
  return *outcome_;
}

std::optional<Result<WorkerAction>> CursorWorker::call(const CursorHandler& handler, std::span<const Event> batch,
                                               const AtLeastOnce* witness, std::string& what) {
  try {
    return handler(batch, witness);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "an exception not derived from std::exception";
  }
  return std::nullopt;
}

Status CursorWorker::run(const Store& store, const Region& region, const CursorWorkerConfig& config,
                         const CursorHandler& handler) {
  auto cursor = config.checkpoint_id.empty() ? Result<Cursor>(Cursor(store, region))
                                             : Cursor::resume(store, region, config.checkpoint_id);
  if (!cursor) return tl::unexpected(cursor.error());
  committed_position_.store(cursor->committed_position());
  const AtLeastOnce witness(config.checkpoint_id);
  const AtLeastOnce* witness_or_null = config.checkpoint_id.empty() ? nullptr : &witness;
  uint32_t restarts = 0;
  while (!stop_requested_.load()) {
    auto batch = cursor->wait_batch(config.batch_size, config.idle_wait_ms);
    if (!batch && batch.error().code == ErrorCode::kTimeout) continue;
    if (!batch) return tl::unexpected(batch.error());
    std::string what;
    const std::optional<Result<WorkerAction>> action = call(handler, *batch, witness_or_null, what);
    if (!action) {
      cursor->rollback();  // Resume from the last committed position.
      if (++restarts > config.restarts_max) {
        return make_error(ErrorCode::kHandlerFailed, "the handler threw " + std::to_string(restarts) +
                                                         " times (restart budget " +
                                                         std::to_string(config.restarts_max) + "): " + what);
      }
      continue;
    }
    if (!*action || **action == WorkerAction::kStopWithRollback) {
      cursor->rollback();
      if (!*action) return tl::unexpected(action->error());
      return {};
    }
    if (auto committed = cursor->commit(); !committed) {
      cursor->rollback();
      Error e = committed.error();
      e.message = "checkpoint write failed: " + e.message;
      return tl::unexpected(e);
    }
    committed_position_.store(cursor->committed_position());
    if (**action == WorkerAction::kStop) return {};
  }
  return {};
}

}  // namespace batpak
