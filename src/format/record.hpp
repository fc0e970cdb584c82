// Encoding and decoding of frames and records (docs/format.md). Pure functions; no I/O.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "batpak/event.hpp"
#include "batpak/status.hpp"

namespace batpak::format {

// Where a frame sits in its batch and what the writer knew when it was encoded.
struct FrameContext {
  uint32_t batch_count = 1;
  uint32_t batch_index = 0;
  // Every byte of the segment before this offset was durable before this frame was
  // written. Recovery uses it to tell a torn write from damage (docs/durability.md).
  uint64_t durable_floor = 0;
};

// A decoded record. The views point into the buffer it was decoded from.
struct RecordView {
  EventHeader header;
  FrameContext context;
  std::string_view entity;
  std::string_view scope;
  std::span<const uint8_t> payload;
};

// The receipt (unsigned, not a replay) of the event with this header and coordinate.
Receipt receipt_of(const EventHeader& header, std::string_view entity, std::string_view scope);

// Bytes a frame occupies on disk for the given variable lengths (aligned, padded).
uint64_t frame_bytes(size_t entity_bytes, size_t scope_bytes, size_t payload_bytes);

// Appends one complete, padded frame to `out`.
void encode_frame(const EventHeader& header, const FrameContext& context,
                  std::string_view entity, std::string_view scope,
                  std::span<const uint8_t> payload, std::vector<uint8_t>& out);

// Reads the record length from a 16-byte frame header; 0 when the magic is wrong.
uint32_t frame_record_bytes(std::span<const uint8_t> frame_header);
// True when the 16-byte frame header is all zeros (the end of written data).
bool frame_header_is_zero(std::span<const uint8_t> frame_header);
// Checks the checksum of a complete frame (header + record, without padding).
bool frame_checksum_ok(std::span<const uint8_t> frame);

// Decodes a record whose frame checksum already passed. Structural errors are kCorruption
// (the caller adds file and offset).
Result<RecordView> decode_record(std::span<const uint8_t> record);

// The event hash of a header (its event_hash field is ignored) and coordinate.
Hash32 compute_event_hash(const EventHeader& header, std::string_view entity,
                          std::string_view scope);

// The 64-byte segment header, and its check.
std::vector<uint8_t> encode_segment_header(uint64_t segment_id, uint64_t created_ms);
Status check_segment_header(std::span<const uint8_t> header, uint64_t expected_segment_id);

}  // namespace batpak::format
