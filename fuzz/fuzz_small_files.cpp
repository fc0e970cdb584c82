// libFuzzer target: the decoders of the small files a store replaces whole (cursor
// checkpoints, the fences file). The first byte picks the decoder. Arbitrary bytes must
// never crash one, and a file a decoder accepts must re-encode to exactly the same bytes,
// so no byte is ignored or misread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "delivery/checkpoint.hpp"
#include "writer/fence_log.hpp"

namespace {

void require_same(const std::vector<uint8_t>& encoded, std::span<const uint8_t> bytes) {
  if (encoded.size() != bytes.size() || !std::equal(encoded.begin(), encoded.end(), bytes.begin())) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::span<const uint8_t> bytes(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    auto checkpoint = batpak::delivery::decode_checkpoint(bytes);
    if (checkpoint) require_same(batpak::delivery::encode_checkpoint(*checkpoint), bytes);
  } else {
    auto fences = batpak::writer::decode_fence_file(bytes);
    if (fences) require_same(batpak::writer::encode_fence_file(*fences), bytes);
  }
  return 0;
}
