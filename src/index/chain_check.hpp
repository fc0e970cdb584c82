// The journal's invariants, checked frame by frame at open and by verify(). Internal.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>

#include "format/record.hpp"
#include "index/index.hpp"

namespace batpak::index {

// Checks that records arrive as one unbroken journal: global sequences 1, 2, 3, ...;
// per entity clocks 1, 2, 3, ... with monotone wall_ms; prev_hash equal to the entity's
// previous event_hash (zero for its first event); event_hash equal to its recomputation;
// and, when `check_content` is set, content_hash equal to BLAKE3 of the payload.
// Thread safety: none; one checker per scan.
class ChainChecker {
 public:
  explicit ChainChecker(bool check_content) : check_content_(check_content) {}

  // Returns the broken invariant, or nothing and advances past the record.
  std::optional<std::string> check_and_advance(const format::RecordView& record);
  uint64_t events_checked() const { return next_sequence_ - 1; }

 private:
  bool check_content_;
  uint64_t next_sequence_ = 1;
  std::unordered_map<std::string, EntityHead> heads_;
};

}  // namespace batpak::index
