// Every magic number, size and offset of the on-disk format lives here.
// docs/format.md is the specification; change both together.
#pragma once

#include <cstddef>
#include <cstdint>

namespace batpak::format {

// ---- Segment files: "<segment_id as 12 decimal digits>.seg" ----
inline constexpr char kSegmentSuffix[] = ".seg";
inline constexpr char kTornSuffix[] = ".torn";  // "<segment>.seg.torn-<offset>": saved torn tail.
inline constexpr char kLockFileName[] = "LOCK";
inline constexpr uint8_t kSegmentMagic[8] = {'B', 'A', 'T', 'P', 'A', 'K', 'S', 'G'};
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kSegmentHeaderBytes = 64;
// Segment header field offsets.
inline constexpr size_t kSegVersionAt = 8;       // u32
inline constexpr size_t kSegHeaderBytesAt = 12;  // u32
inline constexpr size_t kSegIdAt = 16;           // u64
inline constexpr size_t kSegCreatedMsAt = 24;    // u64
inline constexpr size_t kSegChecksumAt = 56;     // u64 XXH3-64 of bytes [0, 56)

// ---- Frames: 8-byte aligned, zero padded ----
inline constexpr size_t kFrameHeaderBytes = 16;
inline constexpr size_t kFrameChecksumAt = 0;    // u64 XXH3-64 of bytes [8, 16 + record_bytes)
inline constexpr size_t kFrameMagicAt = 8;       // u32
inline constexpr size_t kFrameRecordBytesAt = 12;  // u32
inline constexpr uint32_t kFrameMagic = 0x4B505442;  // Bytes "BTPK".
inline constexpr size_t kFrameAlign = 8;

// ---- Record (inside a frame) ----
inline constexpr uint16_t kRecordVersion = 1;
inline constexpr size_t kRecordFixedBytes = 208;
inline constexpr size_t kRecVersionAt = 0;          // u16
inline constexpr size_t kRecKindAt = 2;             // u16
inline constexpr size_t kRecFlagsAt = 4;            // u16
inline constexpr size_t kRecPayloadVersionAt = 6;   // u16
inline constexpr size_t kRecBatchCountAt = 8;       // u32, >= 1
inline constexpr size_t kRecBatchIndexAt = 12;      // u32, < batch_count
inline constexpr size_t kRecGlobalSequenceAt = 16;  // u64
inline constexpr size_t kRecDurableFloorAt = 24;    // u64
inline constexpr size_t kRecWallMsAt = 32;          // u64
inline constexpr size_t kRecTimestampUsAt = 40;     // i64
inline constexpr size_t kRecClockAt = 48;           // u32
inline constexpr size_t kRecEntityBytesAt = 52;     // u16
inline constexpr size_t kRecScopeBytesAt = 54;      // u16
inline constexpr size_t kRecPayloadBytesAt = 56;    // u32
inline constexpr size_t kRecStoreFlagsAt = 60;      // u32, the store's bits below; others zero
inline constexpr size_t kRecEventIdAt = 64;         // 16 bytes
inline constexpr size_t kRecCorrelationAt = 80;     // 16 bytes
inline constexpr size_t kRecCausationAt = 96;       // 16 bytes, zero = none
inline constexpr size_t kRecContentHashAt = 112;    // 32 bytes
inline constexpr size_t kRecPrevHashAt = 144;       // 32 bytes
inline constexpr size_t kRecEventHashAt = 176;      // 32 bytes
// Followed by entity bytes, scope bytes, payload bytes.
// Store flag bits (kRecStoreFlagsAt).
inline constexpr uint32_t kStoreFlagPayloadEncrypted = 1;  // The payload is sealed (docs/encryption.md).

// Hard ceiling on one record, whatever the options say: the largest payload the options
// allow (kPayloadBytesLimit), sealed (+ at most kSealedPayloadExtraBytes), and the longest
// coordinate.
inline constexpr uint64_t kPayloadBytesLimit = 256ull << 20;
inline constexpr uint64_t kSealedPayloadExtraBytes = 64;
inline constexpr uint64_t kRecordBytesMax = kPayloadBytesLimit + kSealedPayloadExtraBytes + kRecordFixedBytes + 2048;

// ---- Domain separation contexts (BLAKE3 derive-key mode) ----
inline constexpr char kEventHashContext[] = "batpak event hash v1";
inline constexpr char kIdempotencyContext[] = "batpak idempotency key v1";
inline constexpr char kSignatureDomain[] = "batpak receipt v1";  // Prefix of the signed message.

}  // namespace batpak::format
