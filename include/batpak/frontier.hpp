// Watermarks: how far the journal has got, as hybrid-clock points, and what to wait on.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

#include "batpak/event.hpp"

namespace batpak {

// A point of the store's hybrid logical clock: a global sequence (the logical part, and
// the order) with the wall-clock milliseconds the journal had reached there (the physical
// part: the largest wall_ms of the events up to that sequence, so it never goes back along
// a watermark). Points compare by global_sequence, then wall_ms.
struct HlcPoint {
  uint64_t wall_ms = 0;
  uint64_t global_sequence = 0;

  friend std::strong_ordering operator<=>(const HlcPoint& a, const HlcPoint& b) {
    if (auto c = a.global_sequence <=> b.global_sequence; c != 0) return c;
    return a.wall_ms <=> b.wall_ms;
  }
  friend bool operator==(const HlcPoint& a, const HlcPoint& b) = default;
};

// The point of a committed event: what to pass to Store::wait_for_* for it.
inline HlcPoint point_of(const Receipt& receipt) { return HlcPoint{receipt.wall_ms, receipt.global_sequence}; }

// The five watermarks. Each only moves forward. At any observation (Store::frontier()):
// accepted >= written >= durable, and accepted >= visible >= applied.
enum class Watermark : uint8_t {
  kAccepted,  // The writer gave the event its global sequence.
  kWritten,   // Its bytes reached the operating system (they survive a process crash).
  kDurable,   // Its bytes were fsync'd (they survive a power cut).
  kVisible,   // Readers, cursors and subscriptions can see it. Under a visibility fence,
              // written events stay invisible until the fence commits.
  kApplied,   // Every registered Applier (Store::register_applier) has applied it. Moves only
              // through appliers: with none registered it stays where it is.
};

// One consistent observation of all five watermarks.
struct Frontier {
  HlcPoint accepted;
  HlcPoint written;
  HlcPoint durable;
  HlcPoint visible;
  HlcPoint applied;

  const HlcPoint& at(Watermark which) const {
    switch (which) {
      case Watermark::kAccepted: return accepted;
      case Watermark::kWritten: return written;
      case Watermark::kDurable: return durable;
      case Watermark::kVisible: return visible;
      case Watermark::kApplied: break;
    }
    return applied;
  }
};

class Store;

// A consumer's claim that it applied the journal up to a point: the applied watermark is
// the lowest claim of all registered appliers (Store::register_applier). Unregisters when
// destroyed. Thread safety: one thread at a time per Applier. The Store must outlive it.
class Applier {
 public:
  Applier(Applier&& other) noexcept;
  Applier& operator=(Applier&& other) noexcept;
  Applier(const Applier&) = delete;
  Applier& operator=(const Applier&) = delete;
  ~Applier();

  // Claims every event up to `applied` applied. A point below the last claim is ignored;
  // one beyond the visible watermark is kInvalidArgument. After the store closed: kClosed.
  Status advance(HlcPoint applied);
  const std::string& name() const { return name_; }

 private:
  friend class Store;
  Applier(const Store* store, uint64_t id, std::string name) : store_(store), id_(id), name_(std::move(name)) {}

  const Store* store_ = nullptr;
  uint64_t id_ = 0;
  std::string name_;
};

}  // namespace batpak
