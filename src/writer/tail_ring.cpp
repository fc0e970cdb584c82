#include "writer/tail_ring.hpp"

#include <array>
#include <atomic>
#include <cassert>
#include <cstring>
#include <limits>

#include "segment/segment_files.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"

namespace batpak::writer {
namespace {

// File header (docs/format.md, "Tail ring"). All little-endian.
constexpr uint8_t kRingMagic[8] = {'B', 'A', 'T', 'P', 'A', 'K', 'T', 'R'};
constexpr uint32_t kRingVersion = 1;
constexpr size_t kRingVersionAt = 8;
constexpr size_t kRingHeaderBytesAt = 12;
constexpr size_t kRingBytesAt = 16;
constexpr size_t kRingEpochAt = 24;
constexpr size_t kRingChecksumAt = 32;  // XXH3-64 of the bytes before it.
constexpr size_t kRingTailAt = 64;      // Not covered by the checksum.

// Record header, at a multiple of 8 in the record area.
constexpr uint32_t kRecordMagic = 0x52544B42;  // The bytes "BKTR".
constexpr uint32_t kKindFrames = 1;
constexpr uint32_t kKindWrap = 2;  // The rest of this lap is unused.
constexpr size_t kRecordKindAt = 4;
constexpr size_t kRecordEpochAt = 8;
constexpr size_t kRecordFirstSequenceAt = 16;
constexpr size_t kRecordEventCountAt = 24;
constexpr size_t kRecordFrameBytesAt = 28;
constexpr size_t kRecordSegmentIdAt = 32;
constexpr size_t kRecordSegmentOffsetAt = 40;
constexpr size_t kRecordChecksumAt = 48;  // XXH3-64 of the bytes before it, then the frames.

using RecordHeader = std::array<uint8_t, kTailRecordHeaderBytes>;

// The bytes a record of `frame_bytes` bytes of frames takes in the ring.
constexpr uint64_t record_bytes(uint64_t frame_bytes) { return kTailRecordHeaderBytes + util::align8(frame_bytes); }

std::array<uint8_t, kTailRingHeaderBytes> encode_ring_header(uint64_t ring_bytes, uint64_t epoch) {
  std::array<uint8_t, kTailRingHeaderBytes> out{};
  std::memcpy(out.data(), kRingMagic, sizeof(kRingMagic));
  util::store_le<uint32_t>(out.data() + kRingVersionAt, kRingVersion);
  util::store_le<uint32_t>(out.data() + kRingHeaderBytesAt, static_cast<uint32_t>(kTailRingHeaderBytes));
  util::store_le<uint64_t>(out.data() + kRingBytesAt, ring_bytes);
  util::store_le<uint64_t>(out.data() + kRingEpochAt, epoch);
  util::store_le<uint64_t>(out.data() + kRingChecksumAt, util::checksum64({out.data(), kRingChecksumAt}));
  return out;  // The tail, at kRingTailAt, is 0.
}

// A record header with every field but the checksum set from `record` (kind frames), or
// zero (kind wrap).
RecordHeader encode_record_header(uint32_t kind, uint64_t epoch, const TailRecord* record) {
  RecordHeader out{};
  util::store_le<uint32_t>(out.data(), kRecordMagic);
  util::store_le<uint32_t>(out.data() + kRecordKindAt, kind);
  util::store_le<uint64_t>(out.data() + kRecordEpochAt, epoch);
  if (record != nullptr) {
    util::store_le<uint64_t>(out.data() + kRecordFirstSequenceAt, record->first_sequence);
    util::store_le<uint32_t>(out.data() + kRecordEventCountAt, record->event_count);
    util::store_le<uint32_t>(out.data() + kRecordFrameBytesAt, static_cast<uint32_t>(record->frames.size()));
    util::store_le<uint64_t>(out.data() + kRecordSegmentIdAt, record->segment_id);
    util::store_le<uint64_t>(out.data() + kRecordSegmentOffsetAt, record->segment_offset);
  }
  return out;
}

// The checksum a record with this header and these frames carries.
uint64_t record_checksum(util::Checksum64Stream& stream, const uint8_t* header, std::span<const uint8_t> frames) {
  stream.reset(0);
  stream.update({header, kRecordChecksumAt});
  stream.update(frames);
  return stream.digest();
}

// Keeps the compiler from moving the stores before it past the stores after it, so that a
// process crash between them leaves a record whose checksum fails.
void order_stores() { std::atomic_signal_fence(std::memory_order_seq_cst); }

// One checksum state per thread, so an append does not allocate one.
util::Checksum64Stream& checksum_stream() {
  thread_local util::Checksum64Stream stream;
  return stream;
}

// The bytes a record of `needed` bytes must first skip to the next lap (0 when it fits
// before the area's end), or nothing when the records between `tail` and `head` leave no
// room for the skip and the record.
std::optional<uint64_t> skip_bytes_if_room(uint64_t head, uint64_t tail, uint64_t capacity, uint64_t needed) {
  const uint64_t lap_left_bytes = capacity - head % capacity;
  const uint64_t skip = lap_left_bytes < needed ? lap_left_bytes : 0;
  const uint64_t free_bytes = capacity - (head - tail);
  if (skip + needed > free_bytes) return std::nullopt;
  return skip;
}

// Stores `header` at `out`: its fields, then its checksum.
void write_record_header(uint8_t* out, const RecordHeader& header) {
  order_stores();
  std::memcpy(out, header.data(), kRecordChecksumAt);
  order_stores();
  std::memcpy(out + kRecordChecksumAt, header.data() + kRecordChecksumAt, kTailRecordHeaderBytes - kRecordChecksumAt);
}

// Whether `file` holds a ring header this library wrote; sets the fields the walk needs.
bool decode_ring_header(std::span<const uint8_t> file, uint64_t& epoch, uint64_t& tail) {
  if (file.size() < kTailRingHeaderBytes) return false;
  const uint8_t* h = file.data();
  if (std::memcmp(h, kRingMagic, sizeof(kRingMagic)) != 0) return false;
  if (util::load_le<uint32_t>(h + kRingVersionAt) != kRingVersion) return false;
  if (util::load_le<uint32_t>(h + kRingHeaderBytesAt) != kTailRingHeaderBytes) return false;
  if (util::load_le<uint64_t>(h + kRingChecksumAt) != util::checksum64({h, kRingChecksumAt})) return false;
  const uint64_t ring_bytes = util::load_le<uint64_t>(h + kRingBytesAt);
  if (ring_bytes != file.size() || ring_bytes <= kTailRingHeaderBytes) return false;
  epoch = util::load_le<uint64_t>(h + kRingEpochAt);
  tail = util::load_le<uint64_t>(h + kRingTailAt);
  return epoch != 0 && tail % 8 == 0;
}

}  // namespace

std::vector<TailRecord> decode_tail_ring(std::span<const uint8_t> file) {
  std::vector<TailRecord> out;
  uint64_t epoch = 0;
  uint64_t tail = 0;
  if (!decode_ring_header(file, epoch, tail)) return out;
  const std::span<const uint8_t> area = file.subspan(kTailRingHeaderBytes);
  const uint64_t capacity = area.size();
  util::Checksum64Stream stream;
  // Bytes walked from the tail, and where the walk is in the area. A record never crosses
  // the area's end, so `phys` reaches capacity only by landing on it exactly.
  uint64_t walked = 0;
  uint64_t phys = tail % capacity;
  while (walked < capacity) {
    const uint64_t lap_left_bytes = capacity - phys;
    uint64_t step = lap_left_bytes;  // A skip to the next lap, unless a record follows.
    if (lap_left_bytes >= kTailRecordHeaderBytes) {
      const uint8_t* h = area.data() + phys;
      const uint32_t kind = util::load_le<uint32_t>(h + kRecordKindAt);
      if (util::load_le<uint32_t>(h) != kRecordMagic || util::load_le<uint64_t>(h + kRecordEpochAt) != epoch) break;
      const uint64_t checksum = util::load_le<uint64_t>(h + kRecordChecksumAt);
      const uint64_t first_sequence = util::load_le<uint64_t>(h + kRecordFirstSequenceAt);
      const uint32_t event_count = util::load_le<uint32_t>(h + kRecordEventCountAt);
      const uint32_t frame_bytes = util::load_le<uint32_t>(h + kRecordFrameBytesAt);
      const uint64_t segment_id = util::load_le<uint64_t>(h + kRecordSegmentIdAt);
      const uint64_t segment_offset = util::load_le<uint64_t>(h + kRecordSegmentOffsetAt);
      if (kind == kKindWrap) {
        const bool zero = first_sequence == 0 && event_count == 0 && frame_bytes == 0 && segment_id == 0 &&
                          segment_offset == 0;
        if (!zero || checksum != record_checksum(stream, h, {})) break;
      } else if (kind == kKindFrames) {
        if (event_count == 0 || frame_bytes == 0 || record_bytes(frame_bytes) > lap_left_bytes) break;
        const std::span<const uint8_t> frames = area.subspan(phys + kTailRecordHeaderBytes, frame_bytes);
        if (checksum != record_checksum(stream, h, frames)) break;
        if (!out.empty()) {
          // A record of the previous lap may follow the newest one intact: only the next
          // sequence continues the ring.
          const TailRecord& previous = out.back();
          if (previous.first_sequence > std::numeric_limits<uint64_t>::max() - previous.event_count) break;
          if (first_sequence != previous.first_sequence + previous.event_count) break;
        }
        out.push_back(TailRecord{first_sequence, event_count, segment_id, segment_offset, frames});
        step = record_bytes(frame_bytes);
      } else {
        break;
      }
    }
    walked += step;
    phys += step;
    if (phys == capacity) phys = 0;
  }
  return out;
}

TailRing::TailRing(std::unique_ptr<File> file, std::span<uint8_t> map, uint64_t epoch)
    : file_(std::move(file)), map_(map), epoch_(epoch), capacity_(map.size() - kTailRingHeaderBytes) {}

Result<std::unique_ptr<TailRing>> TailRing::create(Fs& fs, const std::string& dir, uint64_t ring_bytes,
                                                   uint64_t epoch) {
  if (ring_bytes < kTailRingBytesMin || ring_bytes % kTailRingHeaderBytes != 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "tail ring bytes must be a multiple of 4096, at least " + std::to_string(kTailRingBytesMin));
  }
  if (epoch == 0) return make_error(ErrorCode::kInvalidArgument, "tail ring epoch must not be 0");
  const std::string path = segment::join_path(dir, kTailRingFileName);
  auto file = fs.open(path, Fs::OpenMode::kCreateReadWrite);
  if (!file) return tl::unexpected(file.error());
  // Truncating to 0 first leaves zeros past the header: no record of an earlier ring remains.
  if (auto s = (*file)->truncate(0); !s) return tl::unexpected(s.error());
  // Mapped before the file grows, so that a file system that cannot map files costs neither
  // the ring's bytes nor a ring file.
  auto map = (*file)->map_shared(ring_bytes);
  if (!map) {
    file->reset();
    if (auto s = fs.remove(path); !s) return tl::unexpected(s.error());
    if (auto s = fs.sync_dir(dir); !s) return tl::unexpected(s.error());
    return tl::unexpected(map.error());
  }
  if (auto s = (*file)->truncate(ring_bytes); !s) return tl::unexpected(s.error());
  if (auto s = (*file)->pwrite(0, encode_ring_header(ring_bytes, epoch)); !s) return tl::unexpected(s.error());
  if (auto s = (*file)->sync_all(); !s) return tl::unexpected(s.error());
  if (auto s = fs.sync_dir(dir); !s) return tl::unexpected(s.error());
  return std::unique_ptr<TailRing>(new TailRing(std::move(*file), *map, epoch));
}

bool TailRing::fits(uint64_t frame_bytes) const {
  return frame_bytes <= std::numeric_limits<uint32_t>::max() && record_bytes(frame_bytes) <= capacity_ / 2;
}

bool TailRing::has_room(uint64_t frame_bytes) const {
  return fits(frame_bytes) && skip_bytes_if_room(head_, tail_, capacity_, record_bytes(frame_bytes)).has_value();
}

std::optional<uint64_t> TailRing::append(const TailRecord& record) {
  assert(fits(record.frames.size()));
  assert(record.event_count >= 1 && !record.frames.empty());
  const uint64_t needed = record_bytes(record.frames.size());
  const std::optional<uint64_t> skip = skip_bytes_if_room(head_, tail_, capacity_, needed);
  if (!skip) return std::nullopt;
  util::Checksum64Stream& stream = checksum_stream();
  uint8_t* area = map_.data() + kTailRingHeaderBytes;
  if (*skip >= kTailRecordHeaderBytes) {
    RecordHeader wrap = encode_record_header(kKindWrap, epoch_, nullptr);
    util::store_le<uint64_t>(wrap.data() + kRecordChecksumAt, record_checksum(stream, wrap.data(), {}));
    write_record_header(area + head_ % capacity_, wrap);
  }
  const uint64_t at = head_ + *skip;
  uint8_t* out = area + at % capacity_;
  // Frames and padding first, then the header, then the checksum that seals them.
  const size_t frame_bytes = record.frames.size();
  std::memcpy(out + kTailRecordHeaderBytes, record.frames.data(), frame_bytes);
  std::memset(out + kTailRecordHeaderBytes + frame_bytes, 0, util::align8(frame_bytes) - frame_bytes);
  RecordHeader header = encode_record_header(kKindFrames, epoch_, &record);
  util::store_le<uint64_t>(header.data() + kRecordChecksumAt, record_checksum(stream, header.data(), record.frames));
  write_record_header(out, header);
  head_ = at + needed;
  return head_;
}

void TailRing::release_to(uint64_t position) {
  assert(position >= tail_ && position <= head_);
  assert(position % 8 == 0);
  tail_ = position;
  // One aligned 8-byte store (the mapping is page-aligned), so a crash leaves either tail.
  uint8_t le[8];
  util::store_le<uint64_t>(le, position);
  uint64_t native = 0;
  std::memcpy(&native, le, sizeof(native));
  std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(map_.data() + kRingTailAt))
      .store(native, std::memory_order_relaxed);
}

}  // namespace batpak::writer
