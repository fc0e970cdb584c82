// Wall time from a Clock reading. Internal.
// Thread safety: a pure function.
#pragma once

#include <cstdint>

namespace batpak::util {

// Milliseconds since the Unix epoch of `now_us` (Clock::now_us). A reading before the epoch
// (a broken or badly injected clock) counts as the epoch itself: cast as it is, it would
// wrap to the far future, and as wall times only move forward per entity, that entity's
// and the frontier's wall time would stay there for good.
inline uint64_t wall_ms_of(int64_t now_us) { return now_us <= 0 ? 0 : static_cast<uint64_t>(now_us) / 1000; }

}  // namespace batpak::util
