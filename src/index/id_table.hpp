// Event id -> global sequence: the lookup behind get(), idempotency keys and causation
// walks. Internal.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

#include "batpak/types.hpp"
#include "util/page_array.hpp"

namespace batpak::index {

struct EventIdHash {
  size_t operator()(const EventId& id) const noexcept;
};

// An open-addressing table (linear probing, at most 3/4 full) of 8-byte slots: one flat
// array instead of one heap node per event, so building it for a million events at open
// costs no allocation per event (and the array comes prefaulted, util/page_array.hpp). A
// slot holds a global sequence (40 bits; 0 marks an empty slot) and the top 24 bits of its
// id's hash; the id itself stays in the index's row, which `id_of` reads when a slot's bits
// match, so a table of a million ids takes 16 MiB rather than 48.
// Thread safety: none; Index guards it (and the rows id_of reads) with its mutex.
class IdTable {
 public:
  // The id of a global sequence in the table. REQUIRES: it stays valid while the table does.
  using IdOf = std::function<const EventId&(uint64_t global_sequence)>;
  static constexpr uint64_t kSequenceLimit = uint64_t{1} << 40;

  explicit IdTable(IdOf id_of) : id_of_(std::move(id_of)) {}

  // Room for `count` ids without growing.
  void reserve(size_t count);
  // False (and no change) when `id` is already present. REQUIRES: 0 < global_sequence <
  // kSequenceLimit, and id_of(global_sequence) returns `id` from now on if it is inserted.
  bool insert(const EventId& id, uint64_t global_sequence);
  std::optional<uint64_t> find(const EventId& id) const;
  // A hint that `id` is about to be inserted or looked up: starts loading its home slot, so
  // a bulk load can overlap the cache misses of several ids. Changes nothing.
  void prefetch(const EventId& id) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[home(EventIdHash{}(id))], /*rw=*/1);
  }
  size_t size() const { return size_; }
  void clear();

 private:
  static constexpr uint64_t kSequenceMask = kSequenceLimit - 1;
  static constexpr int kTagShift = 40;

  // The slot index where the probe for `hash` starts, and the tag bits a slot of it carries.
  size_t home(size_t hash) const { return hash & (slots_.size() - 1); }
  static uint64_t tag(size_t hash) { return static_cast<uint64_t>(hash) >> kTagShift << kTagShift; }
  // Inserts a sequence known to be absent. REQUIRES: room for it.
  void place(size_t hash, uint64_t global_sequence);
  void rehash(size_t slot_count);  // REQUIRES: a power of two larger than size_ * 4 / 3.

  IdOf id_of_;
  util::PageArray<uint64_t> slots_;  // Size 0 or a power of two; 0 is an empty slot.
  size_t size_ = 0;
};

}  // namespace batpak::index
