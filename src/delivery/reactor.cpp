#include "batpak/reactor.hpp"

#include <algorithm>

namespace batpak {

namespace {

// Links a reaction to its source and gives it a key derived from (source, index), so a
// redelivered batch replays instead of appending twice.
void bind_to_source(BatchItem& item, const Event& source, size_t index) {
  item.options.causation_id = source.header.event_id;
  item.options.correlation_id = source.header.correlation_id;
  if (!item.options.idempotency_key) {
    item.options.idempotency_key = "batpak.reaction:" + source.header.event_id.to_hex() + ":" + std::to_string(index);
  }
}

}  // namespace

Status Reactor::react(Store& store, std::span<const Event> batch) const {
  std::vector<BatchItem> reactions;
  for (const Event& source : batch) {
    auto handler = handlers_.find(source.header.kind.raw());
    if (handler == handlers_.end()) continue;  // A kind this reactor does not handle.
    ReactionBatch out;
    if (auto handled = handler->second(source, out); !handled) return handled;
    for (size_t i = 0; i < out.items_.size(); ++i) {
      bind_to_source(out.items_[i], source, i);
      reactions.push_back(std::move(out.items_[i]));
    }
  }
  // A redelivered batch may hold more sources than the one whose reactions were committed
  // (events arrived since): only the reactions not committed yet go into the new batch, as
  // one with some keys committed and some not would be refused (kConflict) at every retry.
  uint64_t newest = 0;
  std::vector<BatchItem> uncommitted;
  for (BatchItem& reaction : reactions) {
    auto earlier = store.receipt_for_key(*reaction.options.idempotency_key);
    if (!earlier) return tl::unexpected(earlier.error());
    if (*earlier) {
      newest = std::max(newest, (*earlier)->global_sequence);
    } else {
      uncommitted.push_back(std::move(reaction));
    }
  }
  if (!uncommitted.empty()) {
    auto committed = store.append_batch(uncommitted);
    if (!committed) return tl::unexpected(committed.error());
    newest = std::max(newest, committed->back().global_sequence);
  }
  if (newest == 0) return {};
  // The checkpoint moves past the sources once this returns, so the reactions must be
  // durable first (kBuffered and kAsync appends return before): else a power cut could take
  // them while the checkpoint stays, and they would never be made again.
  return store.sync_through(newest);
}

std::unique_ptr<CursorWorker> Reactor::start(Store& store, Region region, CursorWorkerConfig config) const {
  return std::make_unique<CursorWorker>(
      store, std::move(region), std::move(config),
      [reactor = *this, &store](std::span<const Event> batch, const AtLeastOnce*) -> Result<WorkerAction> {
        if (auto reacted = reactor.react(store, batch); !reacted) return tl::unexpected(reacted.error());
        return WorkerAction::kContinue;
      });
}

}  // namespace batpak
