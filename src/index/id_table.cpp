#include "index/id_table.hpp"

#include <cassert>
#include <cstring>

namespace batpak::index {

size_t EventIdHash::operator()(const EventId& id) const noexcept {
  // UUIDv7 and key-derived ids carry random bits at the end; mix both halves anyway.
  uint64_t hi = 0;
  uint64_t lo = 0;
  std::memcpy(&hi, id.bytes.data(), 8);
  std::memcpy(&lo, id.bytes.data() + 8, 8);
  const uint64_t mixed = (lo ^ (hi * 0x9E3779B97F4A7C15ull)) * 0xBF58476D1CE4E5B9ull;
  return static_cast<size_t>(mixed ^ (mixed >> 31));
}

void IdTable::reserve(size_t count) {
  size_t slot_count = 16;
  while (slot_count * 3 / 4 < count) slot_count *= 2;
  if (slot_count > slots_.size()) rehash(slot_count);
}

bool IdTable::insert(const EventId& id, uint64_t global_sequence) {
  assert(global_sequence > 0 && global_sequence < kSequenceLimit);
  if ((size_ + 1) * 4 > slots_.size() * 3) rehash(slots_.empty() ? 16 : slots_.size() * 2);
  const size_t hash = EventIdHash{}(id);
  const uint64_t want = tag(hash);
  for (size_t i = home(hash);; i = (i + 1) & (slots_.size() - 1)) {
    const uint64_t slot = slots_[i];
    if (slot == 0) {
      slots_[i] = want | global_sequence;
      ++size_;
      return true;
    }
    if ((slot & ~kSequenceMask) == want && id_of_(slot & kSequenceMask) == id) return false;
  }
}

std::optional<uint64_t> IdTable::find(const EventId& id) const {
  if (slots_.empty()) return std::nullopt;
  const size_t hash = EventIdHash{}(id);
  const uint64_t want = tag(hash);
  for (size_t i = home(hash);; i = (i + 1) & (slots_.size() - 1)) {
    const uint64_t slot = slots_[i];
    if (slot == 0) return std::nullopt;
    if ((slot & ~kSequenceMask) == want && id_of_(slot & kSequenceMask) == id) return slot & kSequenceMask;
  }
}

void IdTable::clear() {
  slots_ = util::PageArray<uint64_t>();
  size_ = 0;
}

void IdTable::place(size_t hash, uint64_t global_sequence) {
  size_t i = home(hash);
  while (slots_[i] != 0) i = (i + 1) & (slots_.size() - 1);
  slots_[i] = tag(hash) | global_sequence;
}

void IdTable::rehash(size_t slot_count) {
  const util::PageArray<uint64_t> old = std::exchange(slots_, util::PageArray<uint64_t>(slot_count));
  // A slot keeps only part of its id's hash, so each id is read again from its row; the rows
  // are in sequence order, not slot order, so they are prefetched a few slots ahead.
  constexpr size_t kPrefetchAhead = 8;
  for (size_t i = 0; i < old.size(); ++i) {
    if (i + kPrefetchAhead < old.size() && old[i + kPrefetchAhead] != 0) {
      __builtin_prefetch(&id_of_(old[i + kPrefetchAhead] & kSequenceMask));
    }
    if (old[i] != 0) place(EventIdHash{}(id_of_(old[i] & kSequenceMask)), old[i] & kSequenceMask);
  }
}

}  // namespace batpak::index
