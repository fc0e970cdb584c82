// libFuzzer target: frame and record decoding on arbitrary bytes must never crash, read out
// of bounds or accept a record whose lengths do not add up.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "format/format.hpp"
#include "format/record.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  if (size >= batpak::format::kFrameHeaderBytes) {
    (void)batpak::format::frame_record_bytes(bytes);
    (void)batpak::format::frame_header_is_zero(bytes);
  }
  (void)batpak::format::frame_checksum_ok(bytes);
  (void)batpak::format::check_segment_header(bytes, 1);
  auto record = batpak::format::decode_record(bytes);
  if (record) {
    const size_t total = batpak::format::kRecordFixedBytes + record->entity.size() +
                         record->scope.size() + record->payload.size();
    if (total != size) std::abort();  // Invariant: an accepted record accounts for every byte.
  }
  return 0;
}
