// Visibility fences (docs/gates.md): opening one, and ending it by commit or cancel.
#include "writer/writer.hpp"

#include <cassert>

namespace batpak::writer {

Result<uint64_t> Writer::begin_fence() {
  std::unique_lock lock(mu_);
  if (auto s = check_writable(); !s) return tl::unexpected(s.error());
  if (fence_ || fence_starting_) {
    return make_error(ErrorCode::kFenceActive, "a visibility fence is already open (one at a time)");
  }
  // From here no plain commit is sequenced (check_fence), so once the earlier ones are
  // written and durable, a crash can lose nothing below the fence's start.
  fence_starting_ = true;
  Status ready = wait_until_all_written(lock);
  if (ready) ready = sync_locked(lock);
  if (ready) ready = config_.fence_log->record_open(next_sequence_);
  fence_starting_ = false;
  if (!ready) {
    // A failed fence-file write leaves the file's state unknown; the writer stops.
    if (ready.error().code == ErrorCode::kIo) poison(ready.error());
    return tl::unexpected(ready.error());
  }
  assert(written_sequence_ + 1 == next_sequence_ && durable_sequence_ == written_sequence_);
  const uint64_t first = next_sequence_;
  fence_.emplace(first);
  return first;
}

Status Writer::commit_fence(uint64_t fence) { return end_fence(fence, /*commit=*/true); }

Status Writer::cancel_fence(uint64_t fence) { return end_fence(fence, /*commit=*/false); }

Status Writer::end_fence(uint64_t fence, bool commit) {
  std::unique_lock lock(mu_);
  if (!fence_ || fence_->first_sequence != fence || fence_->ending) {
    return make_error(ErrorCode::kFenceNotActive, "the fence was already committed or cancelled");
  }
  if (auto s = check_writable(); !s) return s;
  fence_->ending = true;  // No more events through it, and no second end, also if this call fails.
  // Durable before visible, and before the outcome is recorded: a recorded cancel must not
  // cover sequences a crash could still lose and then reuse.
  if (auto s = wait_until_all_written(lock); !s) return s;
  if (auto s = sync_locked(lock); !s) return s;
  assert(durable_sequence_ == written_sequence_ && written_sequence_ + 1 == next_sequence_);
  Status recorded = commit ? config_.fence_log->record_committed() : config_.fence_log->record_cancelled(next_sequence_);
  if (!recorded) {
    poison(recorded.error());  // Whether the file changed is unknown: reopen decides.
    return recorded;
  }
  {
    index::Index::Adder adder = index_.adder();
    for (const PendingEvent& p : fence_->held) {
      if (commit) {
        adder.add(p.entity, p.scope, p.entry, p.event_hash);
      } else {
        adder.add_hidden();
      }
    }
  }
  for (const auto& [segment_id, end] : fence_->segment_ends) segments_.set_visible_end(segment_id, end);
  if (!commit) heads_.clear();  // Cancelled events are no entity's head: the index's are.
  fence_.reset();
  visible_sequence_ = written_sequence_;
  visible_point_ = written_point_;
  config_.notifier->publish(visible_sequence_);
  advance_marks();
  done_cv_.notify_all();
  return {};
}

}  // namespace batpak::writer
