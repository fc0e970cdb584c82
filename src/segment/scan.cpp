#include "segment/scan.hpp"

#include <algorithm>
#include <vector>

#include "format/format.hpp"
#include "util/bytes.hpp"

namespace batpak::segment {
namespace {

constexpr size_t kReadChunkBytes = 4u << 20;

// Forward reader over [0, end) of a file through a sliding buffer.
class WindowReader {
 public:
  WindowReader(File& file, uint64_t end) : file_(file), end_(end) {}

  // Exactly `len` bytes at `offset`; an empty span when they lie (partly) beyond `end`.
  Result<std::span<const uint8_t>> read(uint64_t offset, size_t len) {
    if (offset > end_ || len > end_ - offset) return std::span<const uint8_t>();
    if (offset < start_ || offset + len > start_ + buffer_.size()) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(std::max(len, kReadChunkBytes), end_ - offset));
      buffer_.resize(want);
      auto got = file_.pread(offset, buffer_);
      if (!got) return tl::unexpected(got.error());
      buffer_.resize(*got);
      start_ = offset;
      if (*got < len) return std::span<const uint8_t>();
    }
    return std::span<const uint8_t>(buffer_.data() + (offset - start_), len);
  }

  uint64_t end() const { return end_; }

 private:
  File& file_;
  uint64_t end_;
  uint64_t start_ = 0;
  std::vector<uint8_t> buffer_;
};

struct StagedFrame {
  uint64_t offset;
  uint32_t frame_bytes;
  std::vector<uint8_t> record;
};

// What was found at one frame position. kOverBudget: the frame its header claims is larger
// than the caller's remaining read budget, so it was neither read nor checksummed.
struct FrameProbe {
  enum class Kind { kFrame, kEndOfData, kDamage, kOverBudget } kind = Kind::kDamage;
  std::string reason;
  uint32_t frame_bytes = 0;
  std::span<const uint8_t> record;
};

// Probes the frame at `offset`. With `budget_bytes`, a frame claimed to be larger than
// *budget_bytes is kOverBudget; otherwise its size is charged to the budget before it is read.
Result<FrameProbe> probe_frame(WindowReader& reader, uint64_t offset, uint64_t* budget_bytes = nullptr) {
  using format::kFrameHeaderBytes;
  FrameProbe p;
  auto fh = reader.read(offset, kFrameHeaderBytes);
  if (!fh) return tl::unexpected(fh.error());
  if (fh->empty()) return p.reason = "partial frame header", p;
  if (format::frame_header_is_zero(*fh)) return p.kind = FrameProbe::Kind::kEndOfData, p;
  const uint32_t record_bytes = format::frame_record_bytes(*fh);
  if (record_bytes == 0) return p.reason = "bad frame magic", p;
  if (record_bytes < format::kRecordFixedBytes || record_bytes > format::kRecordBytesMax) {
    return p.reason = "frame length out of range", p;
  }
  const uint64_t total = util::align8(kFrameHeaderBytes + record_bytes);
  if (offset > reader.end() || total > reader.end() - offset) return p.reason = "frame runs past the end of data", p;
  if (budget_bytes) {
    if (total > *budget_bytes) return p.kind = FrameProbe::Kind::kOverBudget, p;
    *budget_bytes -= total;
  }
  auto frame = reader.read(offset, total);
  if (!frame) return tl::unexpected(frame.error());
  if (frame->empty()) return p.reason = "frame runs past the end of data", p;  // File shrank.
  const auto body = frame->subspan(0, kFrameHeaderBytes + record_bytes);
  if (!format::frame_checksum_ok(body)) return p.reason = "frame checksum mismatch", p;
  const auto padding = frame->subspan(body.size());
  if (!std::all_of(padding.begin(), padding.end(), [](uint8_t b) { return b == 0; })) {
    return p.reason = "frame padding is not zero", p;
  }
  p.kind = FrameProbe::Kind::kFrame;
  p.frame_bytes = static_cast<uint32_t>(total);
  p.record = body.subspan(kFrameHeaderBytes);
  return p;
}

Error corruption_at(const ScanTarget& t, uint64_t offset, std::string reason) {
  return Error{ErrorCode::kCorruption, std::move(reason), t.path, offset, {}};
}

// Classifies damage at `bad` in the newest segment, whose uncommitted data starts at
// `cut` (<= bad). It is a torn tail unless a valid frame after it was written once the
// damaged bytes were already durable: that proves they had been acknowledged.
//
// The search probes every aligned offset after `bad` and steps over each valid frame it
// finds. Its cost is bounded by a read budget proportional to the damaged tail
// (kTailProbeBudgetFactor times its size, plus a constant), so a crafted tail full of frame
// headers claiming long frames cannot make open quadratic. A tail that exhausts the budget
// is too damaged to classify and is reported as corruption: we never guess "torn".
constexpr uint64_t kTailProbeBudgetFactor = 2;
constexpr uint64_t kTailProbeBudgetBaseBytes = 1u << 20;

// The end of the last non-zero byte in [from, reader.end()); `from` when there is none.
Result<uint64_t> nonzero_end_from(WindowReader& reader, uint64_t from) {
  uint64_t nonzero_end = from;
  for (uint64_t at = from; at < reader.end();) {
    size_t len = static_cast<size_t>(std::min<uint64_t>(kReadChunkBytes, reader.end() - at));
    auto chunk = reader.read(at, len);
    if (!chunk) return tl::unexpected(chunk.error());
    for (size_t i = chunk->size(); i > 0; --i) {
      if ((*chunk)[i - 1] != 0) {
        nonzero_end = at + i;
        break;
      }
    }
    at += len;
  }
  return nonzero_end;
}

Result<SegmentScan> classify_tail(const ScanTarget& t, WindowReader& reader, uint64_t cut,
                                  uint64_t bad, const std::string& reason) {
  auto nonzero_end = nonzero_end_from(reader, cut);
  if (!nonzero_end) return tl::unexpected(nonzero_end.error());
  uint64_t budget_bytes = kTailProbeBudgetFactor * (*nonzero_end - cut) + kTailProbeBudgetBaseBytes;
  for (uint64_t at = bad + format::kFrameAlign; at + format::kFrameHeaderBytes <= *nonzero_end;) {
    auto probe = probe_frame(reader, at, &budget_bytes);
    if (!probe) return tl::unexpected(probe.error());
    if (probe->kind == FrameProbe::Kind::kOverBudget) {
      return tl::unexpected(corruption_at(t, bad, reason + " (the damaged tail after it is too large to classify)"));
    }
    if (probe->kind != FrameProbe::Kind::kFrame) {
      at += format::kFrameAlign;
      continue;
    }
    auto record = format::decode_record(probe->record);
    if (record && record->context.durable_floor > cut) {
      return tl::unexpected(corruption_at(t, bad, reason + " (later durable frame at offset " +
                                                       std::to_string(at) + ")"));
    }
    at += probe->frame_bytes;
  }
  SegmentScan scan;
  scan.data_end = cut;
  if (*nonzero_end > cut) scan.torn = TornTail{cut, *nonzero_end, reason};
  return scan;
}

uint32_t batch_count_of(const std::vector<StagedFrame>& batch) {
  return util::load_le<uint32_t>(batch.front().record.data() + format::kRecBatchCountAt);
}

Status deliver(const ScanTarget& t, const FrameSink& sink, const StagedFrame& staged) {
  auto record = format::decode_record(staged.record);
  if (!record) return tl::unexpected(corruption_at(t, staged.offset, record.error().message));
  return sink(ScannedFrame{*record, staged.offset, staged.frame_bytes});
}

}  // namespace

Result<SegmentScan> scan_segment(const ScanTarget& t, const FrameSink& sink) {
  auto file_size = t.file->size();
  if (!file_size) return tl::unexpected(file_size.error());
  if (!t.newest && t.strict_end > *file_size) {
    return tl::unexpected(corruption_at(t, *file_size, "segment is shorter than its data"));
  }
  WindowReader reader(*t.file, t.newest ? *file_size : t.strict_end);

  auto header = reader.read(0, format::kSegmentHeaderBytes);
  if (!header) return tl::unexpected(header.error());
  Status header_ok = header->empty() ? make_error(ErrorCode::kCorruption, "segment header is short")
                                     : format::check_segment_header(*header, t.segment_id);
  if (!header_ok) {
    if (header_ok.error().code == ErrorCode::kUnsupported) return tl::unexpected(header_ok.error());
    if (t.newest) return classify_tail(t, reader, 0, 0, header_ok.error().message);
    return tl::unexpected(corruption_at(t, 0, header_ok.error().message));
  }

  std::vector<StagedFrame> batch;
  uint64_t offset = std::max<uint64_t>(format::kSegmentHeaderBytes, t.start_offset);
  auto damage = [&](const std::string& reason) -> Result<SegmentScan> {
    const uint64_t cut = batch.empty() ? offset : batch.front().offset;
    if (t.newest) return classify_tail(t, reader, cut, offset, reason);
    return tl::unexpected(corruption_at(t, offset, reason));
  };
  while (true) {
    if (offset == reader.end()) {
      if (!batch.empty()) return damage("batch incomplete at the end of data");
      return SegmentScan{offset, std::nullopt};
    }
    auto probe = probe_frame(reader, offset);
    if (!probe) return tl::unexpected(probe.error());
    if (probe->kind == FrameProbe::Kind::kEndOfData) {
      return damage(t.newest ? "end of data" : "zeroed frame header inside the data");
    }
    if (probe->kind == FrameProbe::Kind::kDamage) return damage(probe->reason);
    auto record = format::decode_record(probe->record);
    if (!record) {
      if (record.error().code == ErrorCode::kUnsupported) return tl::unexpected(record.error());
      return damage(record.error().message);
    }
    const format::FrameContext& ctx = record->context;
    if (ctx.batch_count == 1) {
      if (!batch.empty()) return damage("batch interrupted by another frame");
      if (auto s = sink(ScannedFrame{*record, offset, probe->frame_bytes}); !s) {
        return tl::unexpected(s.error());
      }
    } else {
      const bool in_order = ctx.batch_index == batch.size() &&
                            (batch.empty() || ctx.batch_count == batch_count_of(batch));
      if (!in_order) return damage("batch frames out of order");
      batch.push_back({offset, probe->frame_bytes,
                       std::vector<uint8_t>(probe->record.begin(), probe->record.end())});
      if (batch.size() == ctx.batch_count) {
        for (const auto& staged : batch) {
          if (auto s = deliver(t, sink, staged); !s) return tl::unexpected(s.error());
        }
        batch.clear();
      }
    }
    offset += probe->frame_bytes;
  }
}

}  // namespace batpak::segment
