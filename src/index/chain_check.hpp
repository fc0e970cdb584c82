// The journal's invariants, checked frame by frame at open and by verify(). Internal.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "format/record.hpp"
#include "index/index.hpp"

namespace batpak::index {

// Checks that records arrive as one unbroken journal: global sequences 1, 2, 3, ...;
// per entity clocks 1, 2, 3, ... with monotone wall_ms; prev_hash equal to the entity's
// previous event_hash (zero for its first event); and event_hash equal to its
// recomputation. (verify() checks content hashes itself, many at a time.) Events
// for which `hidden` is true (hidden by a cancelled visibility fence) keep their place in the
// global sequence and their own hashes are checked, but they are not links of their
// entity's chain: the entity's next visible event links to its previous visible one.
// Thread safety: none; one checker per scan.
class ChainChecker {
 public:
  explicit ChainChecker(std::function<bool(uint64_t)> hidden = {}) : hidden_(std::move(hidden)) {}

  // Returns the broken invariant, or nothing and advances past the record.
  std::optional<std::string> check_and_advance(const format::RecordView& record);
  // Continues the check at `next_sequence` with these entity heads, which replace those it
  // had (the events before it were loaded, not checked: from an index checkpoint or segment
  // footers).
  void resume(uint64_t next_sequence, const std::vector<std::pair<std::string, EntityHead>>& heads) {
    next_sequence_ = next_sequence;
    for (const auto& [entity, head] : heads) heads_.insert_or_assign(entity, head);
  }
  // Every entity's last visible event checked (or resumed from), ascending by name.
  std::vector<std::pair<std::string, EntityHead>> heads() const;
  // The global sequence the next record must carry.
  uint64_t next_sequence() const { return next_sequence_; }
  // Whether the last record check_and_advance() accepted is hidden.
  bool last_hidden() const { return last_hidden_; }

 private:
  std::optional<std::string> check_event_hash(const format::RecordView& record) const;

  std::function<bool(uint64_t)> hidden_;
  uint64_t next_sequence_ = 1;
  bool last_hidden_ = false;
  // Hashes a std::string and a std::string_view alike, so a frame's entity is looked up
  // without building a string.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view name) const noexcept { return std::hash<std::string_view>{}(name); }
  };
  std::unordered_map<std::string, EntityHead, NameHash, std::equal_to<>> heads_;
};

}  // namespace batpak::index
