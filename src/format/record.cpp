#include "format/record.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>

#include "format/format.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"

namespace batpak::format {

using util::load_le;
using util::store_le;

uint64_t frame_bytes(size_t entity_bytes, size_t scope_bytes, size_t payload_bytes) {
  return util::align8(kFrameHeaderBytes + kRecordFixedBytes + entity_bytes + scope_bytes +
                      payload_bytes);
}

static void put_bytes(uint8_t* at, std::span<const uint8_t> bytes) {
  std::memcpy(at, bytes.data(), bytes.size());
}

void encode_frame(const EventHeader& h, const FrameContext& ctx, std::string_view entity,
                  std::string_view scope, std::span<const uint8_t> payload,
                  std::vector<uint8_t>& out) {
  const size_t record_bytes = kRecordFixedBytes + entity.size() + scope.size() + payload.size();
  const size_t start = out.size();
  out.resize(start + frame_bytes(entity.size(), scope.size(), payload.size()), 0);
  uint8_t* frame = out.data() + start;
  uint8_t* rec = frame + kFrameHeaderBytes;

  store_le<uint32_t>(frame + kFrameMagicAt, kFrameMagic);
  store_le<uint32_t>(frame + kFrameRecordBytesAt, static_cast<uint32_t>(record_bytes));
  store_le<uint16_t>(rec + kRecVersionAt, kRecordVersion);
  store_le<uint16_t>(rec + kRecKindAt, h.kind.raw());
  store_le<uint16_t>(rec + kRecFlagsAt, h.flags);
  store_le<uint16_t>(rec + kRecPayloadVersionAt, h.payload_version);
  store_le<uint32_t>(rec + kRecBatchCountAt, ctx.batch_count);
  store_le<uint32_t>(rec + kRecBatchIndexAt, ctx.batch_index);
  store_le<uint64_t>(rec + kRecGlobalSequenceAt, h.global_sequence);
  store_le<uint64_t>(rec + kRecDurableFloorAt, ctx.durable_floor);
  store_le<uint64_t>(rec + kRecWallMsAt, h.wall_ms);
  store_le<int64_t>(rec + kRecTimestampUsAt, h.timestamp_us);
  store_le<uint32_t>(rec + kRecClockAt, h.clock);
  store_le<uint16_t>(rec + kRecEntityBytesAt, static_cast<uint16_t>(entity.size()));
  store_le<uint16_t>(rec + kRecScopeBytesAt, static_cast<uint16_t>(scope.size()));
  store_le<uint32_t>(rec + kRecPayloadBytesAt, static_cast<uint32_t>(payload.size()));
  store_le<uint32_t>(rec + kRecStoreFlagsAt, h.payload_encrypted ? kStoreFlagPayloadEncrypted : 0);
  put_bytes(rec + kRecEventIdAt, h.event_id.bytes);
  put_bytes(rec + kRecCorrelationAt, h.correlation_id.bytes);
  put_bytes(rec + kRecCausationAt, h.causation_id.bytes);
  put_bytes(rec + kRecContentHashAt, h.content_hash.bytes);
  put_bytes(rec + kRecPrevHashAt, h.prev_hash.bytes);
  put_bytes(rec + kRecEventHashAt, h.event_hash.bytes);
  uint8_t* var = rec + kRecordFixedBytes;
  std::memcpy(var, entity.data(), entity.size());
  std::memcpy(var + entity.size(), scope.data(), scope.size());
  if (!payload.empty()) std::memcpy(var + entity.size() + scope.size(), payload.data(), payload.size());

  const uint64_t sum = util::checksum64({frame + kFrameMagicAt, 8 + record_bytes});
  store_le<uint64_t>(frame + kFrameChecksumAt, sum);
}

uint32_t frame_record_bytes(std::span<const uint8_t> fh) {
  assert(fh.size() >= kFrameHeaderBytes);
  if (load_le<uint32_t>(fh.data() + kFrameMagicAt) != kFrameMagic) return 0;
  return load_le<uint32_t>(fh.data() + kFrameRecordBytesAt);
}

bool frame_header_is_zero(std::span<const uint8_t> fh) {
  return std::all_of(fh.begin(), fh.begin() + kFrameHeaderBytes, [](uint8_t b) { return b == 0; });
}

bool frame_checksum_ok(std::span<const uint8_t> frame) {
  if (frame.size() < kFrameHeaderBytes) return false;
  const uint64_t stored = load_le<uint64_t>(frame.data() + kFrameChecksumAt);
  return stored == util::checksum64(frame.subspan(kFrameMagicAt));
}

template <size_t N>
static void get_bytes(std::array<uint8_t, N>& out, const uint8_t* at) {
  std::memcpy(out.data(), at, N);
}

static tl::unexpected<Error> corrupt(const std::string& why) {
  return make_error(ErrorCode::kCorruption, why);
}

Result<RecordView> decode_record(std::span<const uint8_t> record) {
  if (record.size() < kRecordFixedBytes) return corrupt("record shorter than its fixed part");
  const uint8_t* rec = record.data();
  if (load_le<uint16_t>(rec + kRecVersionAt) != kRecordVersion) {
    return make_error(ErrorCode::kUnsupported, "record version is not 1");
  }
  RecordView v;
  EventHeader& h = v.header;
  h.kind = EventKind(load_le<uint16_t>(rec + kRecKindAt));
  h.flags = load_le<uint16_t>(rec + kRecFlagsAt);
  h.payload_version = load_le<uint16_t>(rec + kRecPayloadVersionAt);
  v.context.batch_count = load_le<uint32_t>(rec + kRecBatchCountAt);
  v.context.batch_index = load_le<uint32_t>(rec + kRecBatchIndexAt);
  h.global_sequence = load_le<uint64_t>(rec + kRecGlobalSequenceAt);
  v.context.durable_floor = load_le<uint64_t>(rec + kRecDurableFloorAt);
  h.wall_ms = load_le<uint64_t>(rec + kRecWallMsAt);
  h.timestamp_us = load_le<int64_t>(rec + kRecTimestampUsAt);
  h.clock = load_le<uint32_t>(rec + kRecClockAt);
  const size_t entity_bytes = load_le<uint16_t>(rec + kRecEntityBytesAt);
  const size_t scope_bytes = load_le<uint16_t>(rec + kRecScopeBytesAt);
  const size_t payload_bytes = load_le<uint32_t>(rec + kRecPayloadBytesAt);
  const uint32_t store_flags = load_le<uint32_t>(rec + kRecStoreFlagsAt);
  if ((store_flags & ~kStoreFlagPayloadEncrypted) != 0) return corrupt("reserved record flag is set");
  h.payload_encrypted = (store_flags & kStoreFlagPayloadEncrypted) != 0;
  get_bytes(h.event_id.bytes, rec + kRecEventIdAt);
  get_bytes(h.correlation_id.bytes, rec + kRecCorrelationAt);
  get_bytes(h.causation_id.bytes, rec + kRecCausationAt);
  get_bytes(h.content_hash.bytes, rec + kRecContentHashAt);
  get_bytes(h.prev_hash.bytes, rec + kRecPrevHashAt);
  get_bytes(h.event_hash.bytes, rec + kRecEventHashAt);

  if (kRecordFixedBytes + entity_bytes + scope_bytes + payload_bytes != record.size()) {
    return corrupt("record lengths do not add up");
  }
  if (v.context.batch_count == 0 || v.context.batch_index >= v.context.batch_count) {
    return corrupt("batch index out of range");
  }
  const char* var = reinterpret_cast<const char*>(rec + kRecordFixedBytes);
  v.entity = std::string_view(var, entity_bytes);
  v.scope = std::string_view(var + entity_bytes, scope_bytes);
  v.payload = record.subspan(kRecordFixedBytes + entity_bytes + scope_bytes, payload_bytes);
  if (!Coordinate::validate_component(v.entity, "entity") ||
      !Coordinate::validate_component(v.scope, "scope")) {
    return corrupt("record coordinate is invalid");
  }
  return v;
}

namespace {

// Gathers small pieces in a stack buffer, so the usual event hash is one BLAKE3 update
// instead of six (BLAKE3 hashes a stream: how the input is split does not change the hash).
class GatheringHasher {
 public:
  explicit GatheringHasher(const util::Blake3& seeded) : hasher_(seeded) {}
  void update(std::string_view piece) { update({reinterpret_cast<const uint8_t*>(piece.data()), piece.size()}); }
  void update(std::span<const uint8_t> piece) {
    if (piece.empty()) return;
    if (piece.size() > sizeof(buffer_) - used_) {
      flush();
      if (piece.size() > sizeof(buffer_)) return hasher_.update(piece);
    }
    std::memcpy(buffer_ + used_, piece.data(), piece.size());
    used_ += piece.size();
  }
  Hash32 finish() {
    flush();
    return hasher_.finish();
  }

 private:
  void flush() {
    if (used_ > 0) hasher_.update(std::span<const uint8_t>(buffer_, used_));
    used_ = 0;
  }
  util::Blake3 hasher_;
  uint8_t buffer_[320];
  size_t used_ = 0;
};

}  // namespace

Hash32 compute_event_hash(const EventHeader& h, std::string_view entity, std::string_view scope) {
  uint8_t fixed[16 * 3 + 8 + 4 + 8 + 2 + 2 + 4];
  uint8_t* p = fixed;
  std::memcpy(p, h.event_id.bytes.data(), 16), p += 16;
  std::memcpy(p, h.correlation_id.bytes.data(), 16), p += 16;
  std::memcpy(p, h.causation_id.bytes.data(), 16), p += 16;
  store_le<uint64_t>(p, h.global_sequence), p += 8;
  store_le<uint32_t>(p, h.clock), p += 4;
  store_le<uint64_t>(p, h.wall_ms), p += 8;
  store_le<uint16_t>(p, h.kind.raw()), p += 2;
  store_le<uint16_t>(p, h.payload_version), p += 2;
  store_le<uint32_t>(p, static_cast<uint32_t>(entity.size())), p += 4;
  assert(p == fixed + sizeof(fixed));
  uint8_t scope_len[4];
  store_le<uint32_t>(scope_len, static_cast<uint32_t>(scope.size()));

  // Derived once: every event hash starts from the same context-keyed state.
  static const util::Blake3 kContextSeeded(kEventHashContext);
  GatheringHasher hasher(kContextSeeded);
  hasher.update(fixed);
  hasher.update(entity);
  hasher.update(scope_len);
  hasher.update(scope);
  hasher.update(h.content_hash.bytes);
  hasher.update(h.prev_hash.bytes);
  // A trailing byte only for a sealed payload, so the hashes of plaintext events stay as
  // they were; every field before it has a fixed length or a length prefix.
  static constexpr uint8_t kEncryptedMarker[1] = {1};
  if (h.payload_encrypted) hasher.update(kEncryptedMarker);
  return hasher.finish();
}

std::vector<uint8_t> encode_segment_header(uint64_t segment_id, uint64_t created_ms) {
  std::vector<uint8_t> out(kSegmentHeaderBytes, 0);
  std::memcpy(out.data(), kSegmentMagic, sizeof(kSegmentMagic));
  store_le<uint32_t>(out.data() + kSegVersionAt, kFormatVersion);
  store_le<uint32_t>(out.data() + kSegHeaderBytesAt, static_cast<uint32_t>(kSegmentHeaderBytes));
  store_le<uint64_t>(out.data() + kSegIdAt, segment_id);
  store_le<uint64_t>(out.data() + kSegCreatedMsAt, created_ms);
  store_le<uint64_t>(out.data() + kSegChecksumAt, util::checksum64({out.data(), kSegChecksumAt}));
  return out;
}

Status check_segment_header(std::span<const uint8_t> header, uint64_t expected_segment_id) {
  if (header.size() < kSegmentHeaderBytes) return corrupt("segment header is short");
  if (std::memcmp(header.data(), kSegmentMagic, sizeof(kSegmentMagic)) != 0) {
    return corrupt("segment magic is wrong");
  }
  if (load_le<uint64_t>(header.data() + kSegChecksumAt) !=
      util::checksum64(header.subspan(0, kSegChecksumAt))) {
    return corrupt("segment header checksum mismatch");
  }
  if (load_le<uint32_t>(header.data() + kSegVersionAt) != kFormatVersion) {
    return make_error(ErrorCode::kUnsupported, "segment format version is not 1");
  }
  if (load_le<uint64_t>(header.data() + kSegIdAt) != expected_segment_id) {
    return corrupt("segment id does not match its file name");
  }
  return {};
}

Receipt receipt_of(const EventHeader& h, std::string_view entity, std::string_view scope) {
  Receipt r;
  r.event_id = h.event_id;
  r.correlation_id = h.correlation_id;
  r.causation_id = h.causation_id;
  r.global_sequence = h.global_sequence;
  r.entity = entity;
  r.scope = scope;
  r.kind = h.kind;
  r.clock = h.clock;
  r.wall_ms = h.wall_ms;
  r.payload_version = h.payload_version;
  r.content_hash = h.content_hash;
  r.prev_hash = h.prev_hash;
  r.payload_encrypted = h.payload_encrypted;
  r.event_hash = h.event_hash;
  return r;
}

}  // namespace batpak::format
