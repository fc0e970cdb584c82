#include "index/chain_check.hpp"

#include <algorithm>

namespace batpak::index {

std::optional<std::string> ChainChecker::check_and_advance(const format::RecordView& r) {
  const EventHeader& h = r.header;
  if (h.global_sequence != next_sequence_) {
    return "global sequence " + std::to_string(h.global_sequence) + " where " +
           std::to_string(next_sequence_) + " was expected";
  }
  last_hidden_ = hidden_ && hidden_(h.global_sequence);
  if (last_hidden_) {
    if (auto broken = check_event_hash(r)) return broken;
    ++next_sequence_;
    return std::nullopt;
  }
  auto it = heads_.find(r.entity);
  const EntityHead empty;
  const EntityHead& head = it == heads_.end() ? empty : it->second;
  if (h.clock != head.clock + 1) return "entity clock does not follow its previous event";
  if (h.prev_hash != head.event_hash) return "prev_hash does not link to the entity's previous event";
  if (h.wall_ms < head.wall_ms) return "wall_ms went backwards within the entity";
  if (auto broken = check_event_hash(r)) return broken;
  EntityHead next{h.clock, h.event_hash, h.wall_ms};
  if (it == heads_.end()) {
    heads_.emplace(std::string(r.entity), next);
  } else {
    it->second = next;
  }
  ++next_sequence_;
  return std::nullopt;
}

std::optional<std::string> ChainChecker::check_event_hash(const format::RecordView& r) const {
  if (format::compute_event_hash(r.header, r.entity, r.scope) != r.header.event_hash) {
    return "event_hash does not match the event's fields";
  }
  return std::nullopt;
}

std::vector<std::pair<std::string, EntityHead>> ChainChecker::heads() const {
  std::vector<std::pair<std::string, EntityHead>> out(heads_.begin(), heads_.end());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace batpak::index
