// The writer's checks before a commit is sequenced: the open fence, idempotency-key
// replays, append conditions and expected clocks. Every function here REQUIRES mu_.
#include "writer/writer.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace batpak::writer {

Status Writer::check_fence(const Prepared& first) const {
  if (first.fence != 0 && first.condition != nullptr) {
    return make_error(ErrorCode::kInvalidArgument, "append conditions are not accepted inside a visibility fence");
  }
  if ((fence_ || fence_starting_) && first.fence == 0) {
    return make_error(ErrorCode::kFenceActive, "a visibility fence is open: append through it, or after it ends");
  }
  if (first.fence != 0 && (!fence_ || fence_->first_sequence != first.fence || fence_->ending)) {
    return make_error(ErrorCode::kFenceNotActive, "the fence was already committed or cancelled");
  }
  return {};
}

Result<std::optional<std::vector<uint64_t>>> Writer::replay_if_duplicate(
    std::unique_lock<std::mutex>& lock, std::span<const Prepared> events) {
  std::unordered_set<EventId, index::EventIdHash> seen;
  std::vector<uint64_t> replays;
  uint64_t newest = 0;
  for (const Prepared& e : events) {
    if (!e.keyed) continue;
    if (!seen.insert(e.event_id).second) {
      return make_error(ErrorCode::kInvalidArgument, "the same idempotency key twice in one batch");
    }
    if (fence_ && fence_->keyed_ids.contains(e.event_id)) {
      return make_error(ErrorCode::kConflict, "an idempotency key of this batch was already used in the open fence");
    }
    std::optional<uint64_t> seq = index_.find(e.event_id);
    if (!seq) {
      if (auto it = unpublished_ids_.find(e.event_id); it != unpublished_ids_.end()) seq = it->second;
    }
    if (!seq) continue;
    newest = std::max(newest, *seq);
    replays.push_back(*seq);
  }
  if (replays.empty()) return std::optional<std::vector<uint64_t>>();
  if (replays.size() != events.size()) {
    return make_error(ErrorCode::kConflict,
                      "some, but not all, idempotency keys of the batch were already committed");
  }
  done_cv_.wait(lock, [&] { return visible_sequence_ >= newest || poisoned_; });
  if (visible_sequence_ < newest) return tl::unexpected(*poisoned_);
  return std::optional<std::vector<uint64_t>>(std::move(replays));
}

Status Writer::wait_until_all_visible_if_conditional(std::unique_lock<std::mutex>& lock,
                                                     std::span<const Prepared> events) {
  auto stopped = [&] { return poisoned_.has_value() || closing_ || closed_; };
  const bool conditional = std::any_of(events.begin(), events.end(), [](const Prepared& e) { return e.condition; });
  if (!conditional) {
    // Plain commits let waiting conditional ones go first, so a steady stream of appends
    // cannot starve them.
    if (conditional_waiting_ == 0) return {};
    done_cv_.wait(lock, [&] { return conditional_waiting_ == 0 || stopped(); });
    return check_writable();
  }
  // Events sequenced but not yet published are not in the index: wait until there are none,
  // then (still under mu_) nothing can be sequenced before this commit.
  ++conditional_waiting_;
  done_cv_.wait(lock, [&] { return visible_sequence_ + 1 == next_sequence_ || stopped(); });
  if (--conditional_waiting_ == 0) done_cv_.notify_all();
  return check_writable();
}

Status Writer::check_conditions(std::span<const Prepared> events) const {
  for (const Prepared& e : events) {
    if (!e.condition) continue;
    const std::vector<index::Located> newer = index_.select(e.condition->region, e.condition->after_global_sequence, 1);
    if (!newer.empty()) {
      return tl::unexpected(Error{ErrorCode::kConflict,
                                  "append condition failed: event " + std::to_string(newer.front().global_sequence) +
                                      " matches the region and is after " +
                                      std::to_string(e.condition->after_global_sequence),
                                  {}, 0, e.coordinate->entity()});
    }
  }
  return {};
}

Status Writer::check_expected_clocks(std::span<const Prepared> events) {
  const bool expectations = std::any_of(events.begin(), events.end(), [](const Prepared& e) { return e.expected_clock; });
  // Each event adds 1 to one entity's clock, so no clock exceeds the sequences taken; without
  // expectations only an exhausted clock can fail, and none can be while sequences are far
  // from UINT32_MAX.
  if (!expectations && next_sequence_ + events.size() <= UINT32_MAX) return {};
  std::unordered_map<std::string, uint32_t> clocks;  // Clock after the batch's earlier items.
  for (const Prepared& e : events) {
    const std::string& entity = e.coordinate->entity();
    auto it = events.size() == 1 ? clocks.end() : clocks.find(entity);
    const uint32_t current = it != clocks.end() ? it->second : head_of(entity).clock;
    if (e.expected_clock && *e.expected_clock != current) {
      Error err{ErrorCode::kConflict,
                "expected clock " + std::to_string(*e.expected_clock) + ", entity is at " +
                    std::to_string(current),
                {}, 0, entity};
      return tl::unexpected(std::move(err));
    }
    if (current == UINT32_MAX) return make_error(ErrorCode::kTooLarge, "entity clock exhausted");
    if (events.size() > 1) clocks[entity] = current + 1;
  }
  return {};
}

Result<std::optional<Committed>> Writer::admit(std::unique_lock<std::mutex>& lock,
                                               std::span<const Prepared> events) {
  if (auto s = check_writable(); !s) return tl::unexpected(s.error());
  if (auto s = check_fence(events.front()); !s) return tl::unexpected(s.error());
  if (auto s = wait_until_all_visible_if_conditional(lock, events); !s) return tl::unexpected(s.error());
  if (auto s = check_fence(events.front()); !s) return tl::unexpected(s.error());  // Began while waiting?
  auto replay = replay_if_duplicate(lock, events);
  if (!replay) return tl::unexpected(replay.error());
  if (*replay) return Committed{{}, std::move(**replay)};
  if (auto s = check_conditions(events); !s) return tl::unexpected(s.error());
  if (auto s = check_expected_clocks(events); !s) return tl::unexpected(s.error());
  return std::optional<Committed>();
}

}  // namespace batpak::writer
