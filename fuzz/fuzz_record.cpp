// libFuzzer target: frame and record decoding on arbitrary bytes must never crash or read
// out of bounds, and a record the decoder accepts must re-encode to exactly the same bytes
// (so no byte of a record is ignored or misplaced by either side).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "format/format.hpp"
#include "format/record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace format = batpak::format;
  const std::span<const uint8_t> bytes(data, size);
  if (size >= format::kFrameHeaderBytes) {
    (void)format::frame_record_bytes(bytes);
    (void)format::frame_header_is_zero(bytes);
  }
  (void)format::frame_checksum_ok(bytes);
  (void)format::check_segment_header(bytes, 1);
  auto record = format::decode_record(bytes);
  if (!record) return 0;
  const size_t total = format::kRecordFixedBytes + record->entity.size() + record->scope.size() +
                       record->payload.size();
  if (total != size) std::abort();  // An accepted record accounts for every byte.

  std::vector<uint8_t> frame;
  format::encode_frame(record->header, record->context, record->entity, record->scope,
                       record->payload, frame);
  if (frame.size() != format::frame_bytes(record->entity.size(), record->scope.size(),
                                          record->payload.size()) ||
      frame.size() % format::kFrameAlign != 0) {
    std::abort();
  }
  const auto body = std::span<const uint8_t>(frame).subspan(0, format::kFrameHeaderBytes + size);
  if (format::frame_record_bytes(body) != size || !format::frame_checksum_ok(body)) std::abort();
  if (!std::equal(bytes.begin(), bytes.end(), body.begin() + format::kFrameHeaderBytes)) {
    std::abort();  // Round trip: decode then encode gives back the input.
  }
  if (!std::all_of(frame.begin() + static_cast<std::ptrdiff_t>(body.size()), frame.end(),
                   [](uint8_t b) { return b == 0; })) {
    std::abort();  // Padding is zero.
  }
  return 0;
}
