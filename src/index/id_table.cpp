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
  assert(global_sequence > 0);
  if ((size_ + 1) * 4 > slots_.size() * 3) rehash(slots_.empty() ? 16 : slots_.size() * 2);
  for (size_t i = home(id);; i = (i + 1) & (slots_.size() - 1)) {
    Slot& slot = slots_[i];
    if (slot.global_sequence == 0) {
      slot = Slot{id, global_sequence};
      ++size_;
      return true;
    }
    if (slot.id == id) return false;
  }
}

std::optional<uint64_t> IdTable::find(const EventId& id) const {
  if (slots_.empty()) return std::nullopt;
  for (size_t i = home(id);; i = (i + 1) & (slots_.size() - 1)) {
    const Slot& slot = slots_[i];
    if (slot.global_sequence == 0) return std::nullopt;
    if (slot.id == id) return slot.global_sequence;
  }
}

void IdTable::clear() {
  slots_ = util::PageArray<Slot>();
  size_ = 0;
}

void IdTable::rehash(size_t slot_count) {
  util::PageArray<Slot> old = std::move(slots_);
  slots_ = util::PageArray<Slot>(slot_count);
  size_ = 0;
  for (const Slot& slot : old) {
    if (slot.global_sequence != 0) insert(slot.id, slot.global_sequence);
  }
}

}  // namespace batpak::index
