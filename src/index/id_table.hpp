// Event id -> global sequence: the lookup behind get(), idempotency keys and causation
// walks. Internal.
#pragma once

#include <cstdint>
#include <optional>

#include "batpak/types.hpp"
#include "util/page_array.hpp"

namespace batpak::index {

struct EventIdHash {
  size_t operator()(const EventId& id) const noexcept;
};

// An open-addressing table (linear probing, at most 3/4 full): one flat array instead of
// one heap node per event, so building it for a million events at open costs no
// allocation per event (and the array comes prefaulted, util/page_array.hpp). Global
// sequence 0 marks an empty slot (sequences start at 1).
// Thread safety: none; Index guards it with its mutex.
class IdTable {
 public:
  // Room for `count` ids without growing.
  void reserve(size_t count);
  // False (and no change) when `id` is already present. REQUIRES: global_sequence > 0.
  bool insert(const EventId& id, uint64_t global_sequence);
  std::optional<uint64_t> find(const EventId& id) const;
  // A hint that `id` is about to be inserted or looked up: starts loading its home slot, so
  // a bulk load can overlap the cache misses of several ids. Changes nothing.
  void prefetch(const EventId& id) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[home(id)], /*rw=*/1);
  }
  size_t size() const { return size_; }
  void clear();

 private:
  struct Slot {
    EventId id;
    uint64_t global_sequence = 0;  // 0: empty.
  };
  size_t home(const EventId& id) const { return EventIdHash{}(id) & (slots_.size() - 1); }
  void rehash(size_t slot_count);  // REQUIRES: a power of two larger than size_ * 4 / 3.

  util::PageArray<Slot> slots_;  // Size 0 or a power of two; all-zero bytes are an empty slot.
  size_t size_ = 0;
};

}  // namespace batpak::index
