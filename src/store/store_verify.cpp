// Store::verify: a full re-read of every committed frame.
#include <cassert>
#include <vector>

#include "format/format.hpp"
#include "index/chain_check.hpp"
#include "segment/scan.hpp"
#include "store/store_impl.hpp"
#include "util/hash.hpp"

namespace batpak {
namespace {

// Content hashes checked a batch at a time, side by side (util::blake3_each): payloads of up
// to util::kBlake3SideBySideBytesMax are copied here until kFramesMax are pending. take_first_mismatch() reports the
// first pending frame whose payload does not match its content_hash, so damage is still
// reported at the first broken place in commit order. A batch holds frames of one segment:
// the caller takes the mismatches before it moves to the next segment.
class ContentCheck {
 public:
  static constexpr size_t kFramesMax = 256;

  // REQUIRES: nothing pending (take_first_mismatch() since the last segment's frames).
  void begin_segment(const std::string& path) {
    assert(pending_.empty());
    path_ = path;
  }

  // Adds one frame. Returns damage found, if any, among the pending frames or this one.
  std::optional<Damage> add(const segment::ScannedFrame& f) {
    const format::RecordView& r = f.record;
    if (r.payload.size() > util::kBlake3SideBySideBytesMax) {  // Hashed at once.
      if (auto damage = take_first_mismatch()) return damage;
      if (util::blake3(r.payload) != r.header.content_hash) {
        return mismatch(f.offset, r.header.global_sequence, r.header.event_id);
      }
      return std::nullopt;
    }
    pending_.push_back(Pending{f.offset, r.header.global_sequence, r.header.event_id, r.header.content_hash,
                               bytes_.size(), r.payload.size()});
    bytes_.insert(bytes_.end(), r.payload.begin(), r.payload.end());
    if (pending_.size() == kFramesMax) return take_first_mismatch();
    return std::nullopt;
  }

  // Hashes every pending payload; the first mismatch in commit order, if any.
  std::optional<Damage> take_first_mismatch() {
    std::vector<std::span<const uint8_t>> payloads;
    payloads.reserve(pending_.size());
    for (const Pending& p : pending_) payloads.emplace_back(bytes_.data() + p.at, p.bytes);
    std::vector<Hash32> hashes(pending_.size());
    util::blake3_each(payloads, hashes);
    std::optional<Damage> damage;
    for (size_t i = 0; i < pending_.size() && !damage; ++i) {
      const Pending& p = pending_[i];
      if (hashes[i] != p.content_hash) damage = mismatch(p.offset, p.global_sequence, p.event_id);
    }
    pending_.clear();
    bytes_.clear();
    return damage;
  }

 private:
  struct Pending {
    uint64_t offset;
    uint64_t global_sequence;
    EventId event_id;
    Hash32 content_hash;
    size_t at;  // In bytes_.
    size_t bytes;
  };
  Damage mismatch(uint64_t offset, uint64_t global_sequence, const EventId& event_id) const {
    return Damage{path_, offset, global_sequence, event_id, "content_hash does not match the payload"};
  }
  std::string path_;
  std::vector<Pending> pending_;
  std::vector<uint8_t> bytes_;
};

}  // namespace

Result<VerifyReport> Store::verify() const {
  if (auto s = impl_->check_readable(); !s) return tl::unexpected(s.error());
  VerifyReport report;
  index::ChainChecker checker([this](uint64_t seq) { return impl_->fence_log->hidden(seq); });
  const uint64_t first_sequence = impl_->horizon.first_sequence;  // Dropped history: docs/retention.md.
  checker.resume(first_sequence, impl_->horizon.heads);
  ContentCheck contents;
  // A frame whose content does not match: every frame before it passed all checks.
  auto content_damage = [&](Damage damage) {
    report.events_checked = damage.global_sequence - first_sequence;
    report.damage = std::move(damage);
    return report;
  };
  // Other damage is reported only once the content of every frame before it checked out.
  auto other_damage = [&](Damage damage) {
    if (auto earlier = contents.take_first_mismatch()) return content_damage(std::move(*earlier));
    report.events_checked = checker.next_sequence() - first_sequence;
    report.damage = std::move(damage);
    return report;
  };
  // Each segment is checked up to its visible end as of now: later frames may be mid-write.
  for (const auto& seg : impl_->segments.snapshot()) {
    if (seg.visible_end < format::kSegmentHeaderBytes) continue;  // Torn header: no data.
    const std::string path = impl_->segments.path(seg.segment_id);
    auto file = impl_->segments.file(seg.segment_id);
    if (!file) return tl::unexpected(file.error());
    contents.begin_segment(path);
    std::optional<Damage> frame_broken, content_broken;
    segment::ScanTarget target{file->get(), path, seg.segment_id, /*newest=*/false, seg.visible_end};
    auto scan = segment::scan_segment(target, [&](const segment::ScannedFrame& f) -> Status {
      if (auto broken = checker.check_and_advance(f.record)) {
        frame_broken = Damage{path, f.offset, f.record.header.global_sequence, f.record.header.event_id, *broken};
        return make_error(ErrorCode::kCorruption, *broken);
      }
      if (f.record.header.payload_encrypted) {  // Its key must exist, live or shredded.
        if (auto key = impl_->sealing_key(f.record.payload); !key) {
          frame_broken = Damage{path, f.offset, f.record.header.global_sequence, f.record.header.event_id,
                                key.error().message};
          return tl::unexpected(key.error());
        }
      }
      content_broken = contents.add(f);
      if (content_broken) return make_error(ErrorCode::kCorruption, content_broken->reason);
      return {};
    });
    ++report.segments_checked;
    report.events_checked = checker.next_sequence() - first_sequence;
    if (content_broken) return content_damage(std::move(*content_broken));
    if (frame_broken) return other_damage(std::move(*frame_broken));
    if (!scan) {
      if (scan.error().code != ErrorCode::kCorruption) return tl::unexpected(scan.error());
      return other_damage(Damage{scan.error().file, scan.error().offset, checker.next_sequence(),
                                 std::nullopt, scan.error().message});
    }
    if (auto damage = contents.take_first_mismatch()) return content_damage(std::move(*damage));
  }
  return report;
}

}  // namespace batpak
