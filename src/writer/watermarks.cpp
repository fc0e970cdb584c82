#include "writer/watermarks.hpp"

#include <algorithm>
#include <cassert>

namespace batpak::writer {

namespace {

std::string describe(const HlcPoint& p) {
  return "(wall_ms " + std::to_string(p.wall_ms) + ", global sequence " + std::to_string(p.global_sequence) + ")";
}

const char* name_of(Watermark which) {
  switch (which) {
    case Watermark::kAccepted: return "accepted";
    case Watermark::kWritten: return "written";
    case Watermark::kDurable: return "durable";
    case Watermark::kVisible: return "visible";
    case Watermark::kApplied: break;
  }
  return "applied";
}

}  // namespace

Watermarks::Watermarks(HlcPoint start, HlcPoint durable_start) {
  assert(durable_start <= start);
  marks_.fill(start);
  mark(Watermark::kDurable) = durable_start;
}

void Watermarks::advance(HlcPoint accepted, HlcPoint written, HlcPoint durable, HlcPoint visible) {
  {
    std::lock_guard lock(mu_);
    mark(Watermark::kAccepted) = std::max(mark(Watermark::kAccepted), accepted);
    mark(Watermark::kWritten) = std::max(mark(Watermark::kWritten), written);
    mark(Watermark::kDurable) = std::max(mark(Watermark::kDurable), durable);
    mark(Watermark::kVisible) = std::max(mark(Watermark::kVisible), visible);
    // The writer's invariants, asserted where they are established.
    assert(mark(Watermark::kAccepted) >= mark(Watermark::kWritten));
    assert(mark(Watermark::kWritten) >= mark(Watermark::kDurable));
    assert(mark(Watermark::kAccepted) >= mark(Watermark::kVisible));
  }
  cv_.notify_all();
}

Frontier Watermarks::frontier() const {
  std::lock_guard lock(mu_);
  return Frontier{marks_[0], marks_[1], marks_[2], marks_[3], marks_[4]};
}

Status Watermarks::wait_for(Watermark which, HlcPoint point, std::chrono::milliseconds timeout) const {
  const auto reached = [&] { return marks_[static_cast<size_t>(which)] >= point; };
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return reached() || failed_ || closed_; });
  if (reached()) return {};
  if (failed_) return tl::unexpected(*failed_);
  if (closed_) return make_error(ErrorCode::kClosed, "the store is closed");
  return make_error(ErrorCode::kTimeout, std::string("the ") + name_of(which) + " watermark is at " +
                                             describe(marks_[static_cast<size_t>(which)]) + ", short of " +
                                             describe(point) + " after " + std::to_string(timeout.count()) + " ms");
}

void Watermarks::fail(const Error& error) {
  {
    std::lock_guard lock(mu_);
    if (!failed_) failed_ = error;
  }
  cv_.notify_all();
}

void Watermarks::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

void Watermarks::recompute_applied() {
  if (appliers_.empty()) return;
  HlcPoint lowest = appliers_.begin()->second.point;
  for (const auto& [id, applier] : appliers_) lowest = std::min(lowest, applier.point);
  mark(Watermark::kApplied) = std::max(mark(Watermark::kApplied), lowest);
}

Result<uint64_t> Watermarks::add_applier(std::string name) {
  std::lock_guard lock(mu_);
  for (const auto& [id, applier] : appliers_) {
    if (applier.name == name) return make_error(ErrorCode::kConflict, "an applier named '" + name + "' is registered");
  }
  const uint64_t id = next_applier_id_++;
  appliers_.emplace(id, Applier{std::move(name), mark(Watermark::kApplied)});
  return id;
}

Status Watermarks::advance_applier(uint64_t applier_id, HlcPoint point) {
  {
    std::lock_guard lock(mu_);
    if (point > mark(Watermark::kVisible)) {
      return make_error(ErrorCode::kInvalidArgument, "applied point " + describe(point) +
                                                         " is beyond the visible watermark " +
                                                         describe(mark(Watermark::kVisible)));
    }
    auto it = appliers_.find(applier_id);
    if (it == appliers_.end()) return make_error(ErrorCode::kInvalidArgument, "unknown applier");
    it->second.point = std::max(it->second.point, point);
    recompute_applied();
  }
  cv_.notify_all();
  return {};
}

void Watermarks::remove_applier(uint64_t applier_id) {
  {
    std::lock_guard lock(mu_);
    appliers_.erase(applier_id);
    recompute_applied();
  }
  cv_.notify_all();
}

}  // namespace batpak::writer
