// Store::verify: a full re-read of every committed frame.
#include "format/format.hpp"
#include "index/chain_check.hpp"
#include "segment/scan.hpp"
#include "store/store_impl.hpp"

namespace batpak {

Result<VerifyReport> Store::verify() const {
  if (auto s = impl_->check_open(); !s) return tl::unexpected(s.error());
  VerifyReport report;
  index::ChainChecker checker(/*check_content=*/true,
                              [this](uint64_t seq) { return impl_->fence_log->hidden(seq); });
  // Each segment is checked up to its visible end as of now: later frames may be mid-write.
  for (const auto& seg : impl_->segments.snapshot()) {
    if (seg.visible_end < format::kSegmentHeaderBytes) continue;  // Torn header: no data.
    const std::string path = impl_->segments.path(seg.segment_id);
    std::optional<Damage> chain_damage;
    segment::ScanTarget target{seg.file.get(), path, seg.segment_id, /*newest=*/false, seg.visible_end};
    auto scan = segment::scan_segment(target, [&](const segment::ScannedFrame& f) -> Status {
      if (auto broken = checker.check_and_advance(f.record)) {
        chain_damage = Damage{path, f.offset, f.record.header.global_sequence,
                              f.record.header.event_id, *broken};
        return make_error(ErrorCode::kCorruption, *broken);
      }
      return {};
    });
    ++report.segments_checked;
    report.events_checked = checker.events_checked();
    if (chain_damage) {
      report.damage = std::move(chain_damage);
      return report;
    }
    if (!scan) {
      if (scan.error().code != ErrorCode::kCorruption) return tl::unexpected(scan.error());
      report.damage = Damage{scan.error().file, scan.error().offset, checker.events_checked() + 1,
                             std::nullopt, scan.error().message};
      return report;
    }
  }
  return report;
}

}  // namespace batpak
