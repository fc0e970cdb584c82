// Index::count: how many events of a region follow a global sequence (a consumer's backlog).
#include <algorithm>

#include "index/index.hpp"

namespace batpak::index {

uint64_t Index::count(const Region& region, uint64_t after) const {
  if (region.entity_prefix) {
    std::shared_lock lock(mu_);
    const bool whole_entities = !region.scope && region.kinds.mode == KindFilter::Mode::kAny && !region.clock_range;
    uint64_t n = 0;
    for (const EntityState* state : matching_entities(region)) {
      const auto& seqs = state->sequences;
      const auto first = std::upper_bound(seqs.begin(), seqs.end(), after);
      if (whole_entities) {
        n += static_cast<uint64_t>(seqs.end() - first);
        continue;
      }
      n += static_cast<uint64_t>(std::count_if(first, seqs.end(), [&](uint64_t seq) { return row_matches(seq, region); }));
    }
    return n;
  }
  // The rows present when the count began; later ones are not waited for.
  constexpr uint64_t kRowsPerLock = 1 << 16;
  uint64_t n = 0;
  uint64_t end = 0;
  for (uint64_t next = after + 1; next != 0;) {  // 0: `after + 1` wrapped, and nothing follows.
    std::shared_lock lock(mu_);
    if (end == 0) end = end_sequence();
    next = std::max(next, first_sequence_);
    if (next >= end) break;
    const uint64_t stop = next + std::min(kRowsPerLock, end - next);
    for (; next < stop; ++next) n += row_matches(next, region) ? 1 : 0;
  }
  return n;
}

}  // namespace batpak::index
