// The store's watermarks and the waits on them. Internal.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "batpak/frontier.hpp"
#include "batpak/status.hpp"

namespace batpak::writer {

// Thread safety: every method may be called concurrently. The writer advances the first
// four watermarks (under its own mutex: lock order writer, then this); appliers advance
// their own points. Every change wakes every waiter, which re-checks its condition.
class Watermarks {
 public:
  // Every watermark starts at `start` (the last recovered event's point), but durable at
  // `durable_start` (below `start` when a read-only open cannot tell the last events
  // durable). REQUIRES: durable_start <= start.
  Watermarks(HlcPoint start, HlcPoint durable_start);

  // Raises the writer's four watermarks to these points (each only moves forward).
  void advance(HlcPoint accepted, HlcPoint written, HlcPoint durable, HlcPoint visible);

  Frontier frontier() const;

  // Blocks until `which` reaches `point` (Ok), `timeout` passes (kTimeout, with both points
  // in the message), the writer fails (its error, typically kPoisoned) or the store closes
  // (kClosed). A zero timeout just checks.
  Status wait_for(Watermark which, HlcPoint point, std::chrono::milliseconds timeout) const;

  // Wakes every waiter whose point was not reached with `error`, now and from now on.
  void fail(const Error& error);
  void close();

  // Appliers: the applied watermark is the lowest of their points (it never moves back).
  // A new applier starts at the current applied point. Names are unique (kConflict).
  Result<uint64_t> add_applier(std::string name);
  // kInvalidArgument for a point beyond the visible watermark; a lower point than the
  // applier's last one is ignored.
  Status advance_applier(uint64_t applier_id, HlcPoint point);
  void remove_applier(uint64_t applier_id);

 private:
  HlcPoint& mark(Watermark which) { return marks_[static_cast<size_t>(which)]; }
  void recompute_applied();  // REQUIRES: mu_ held.

  struct Applier {
    std::string name;
    HlcPoint point;
  };

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::array<HlcPoint, 5> marks_;  // Indexed by Watermark.
  std::optional<Error> failed_;
  bool closed_ = false;
  std::map<uint64_t, Applier> appliers_;
  uint64_t next_applier_id_ = 1;
};

}  // namespace batpak::writer
