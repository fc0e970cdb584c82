// Visibility fences: appends that stay invisible until the fence commits, or are hidden
// for good when it is cancelled.
//
//   auto fence = store.begin_fence();            // Waits for earlier appends to be durable.
//   if (!fence) return fence.error();
//   fence->append(order, OrderPlaced{...});      // Written, not visible to anyone yet.
//   fence->append(stock, StockReserved{...});
//   if (ok) fence->commit(); else fence->cancel();
//
// While a fence is open it is the store's only way in: plain appends fail with kFenceActive,
// and so does a second begin_fence(). Its events take global sequences, are written (and
// made durable as the store's durability mode says) and chain like any event, but no read,
// query, cursor or subscription sees them. commit() makes them durable, records the end of
// the fence, then makes all of them visible at once. cancel() makes them durable and records
// their global-sequence range as cancelled (in the `fences` file; docs/format.md): they stay
// in the segment files but are hidden for good, also after reopen, and each entity's chain
// continues from its last visible event. A fence still open when its Fence is destroyed or
// the store closes is cancelled; one a crash left open is cancelled at the next open.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "batpak/codec.hpp"
#include "batpak/event.hpp"
#include "batpak/options.hpp"

namespace batpak {

class Store;

// Global sequences [start, end).
struct SequenceRange {
  uint64_t start = 0;
  uint64_t end = 0;
  friend bool operator==(const SequenceRange&, const SequenceRange&) = default;
};

// Thread safety: a Fence is used by one thread at a time. The Store must outlive it.
class Fence {
 public:
  Fence(Fence&& other) noexcept;
  Fence& operator=(Fence&& other) noexcept;
  Fence(const Fence&) = delete;
  Fence& operator=(const Fence&) = delete;
  ~Fence();  // Cancels the fence if it is still open; errors are dropped.

  // As Store::append / append_batch, but invisible until commit(). Append conditions are
  // refused (kInvalidArgument): nothing else can commit while the fence is open. An
  // idempotency key used earlier in this fence: kConflict. After the fence ended:
  // kFenceNotActive.
  Result<Receipt> append(const Coordinate& coordinate, EventKind kind, std::span<const uint8_t> payload,
                         const AppendOptions& options = {});
  template <TypedPayload T>
  Result<Receipt> append(const Coordinate& coordinate, const T& value, const AppendOptions& options = {});
  Result<std::vector<Receipt>> append_batch(std::span<const BatchItem> items);

  // Ends the fence. Errors: kFenceNotActive (already ended), kPoisoned, kIo, kClosed; after an
  // I/O error the store is poisoned and its next open decides (a fence whose end was not
  // recorded is cancelled).
  Status commit();
  Status cancel();

  // The global sequence of the fence's first event.
  uint64_t first_global_sequence() const { return first_; }
  // False once commit() or cancel() was called (whatever its outcome).
  bool open() const { return store_ != nullptr; }

 private:
  friend class Store;
  Fence(Store* store, uint64_t first) : store_(store), first_(first) {}
  Status end(bool commit);

  Store* store_ = nullptr;
  uint64_t first_ = 0;
};

}  // namespace batpak
