// libFuzzer target: the decoders of the files a store replaces whole (cursor checkpoints,
// the fences file, the index checkpoint, segment footers, the manifest, the horizon file,
// the signing record, the keys file), of projection cache rows, and the region identity text
// a checkpoint holds (Region::from_identity). The first byte picks the decoder. Arbitrary bytes must never
// crash one, and a file a decoder accepts must re-encode to exactly the same bytes, so no
// byte is ignored or misread.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include "batpak/projection_cache.hpp"
#include "crypto/keyset.hpp"
#include "delivery/checkpoint.hpp"
#include "index/horizon.hpp"
#include "index/index_checkpoint.hpp"
#include "index/segment_footer.hpp"
#include "segment/manifest.hpp"
#include "store/signing_record.hpp"
#include "writer/fence_log.hpp"

namespace {

void require_same(const std::vector<uint8_t>& encoded, std::span<const uint8_t> bytes) {
  if (encoded.size() != bytes.size() || !std::equal(encoded.begin(), encoded.end(), bytes.begin())) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::span<const uint8_t> bytes(data + 1, size - 1);
  switch (data[0] % 9) {
    case 0: {  // A cursor checkpoint, and the same bytes as the region identity text it holds.
      auto checkpoint = batpak::delivery::decode_checkpoint(bytes);
      if (checkpoint) require_same(batpak::delivery::encode_checkpoint(*checkpoint), bytes);
      const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      auto region = batpak::Region::from_identity(text);
      if (region && region->identity() != text) std::abort();
      break;
    }
    case 1: {
      auto fences = batpak::writer::decode_fence_file(bytes);
      if (fences) require_same(batpak::writer::encode_fence_file(*fences), bytes);
      break;
    }
    case 3: {
      auto footer = batpak::index::decode_segment_footer(bytes);
      if (footer) require_same(batpak::index::encode_segment_footer(*footer), bytes);
      break;
    }
    case 4: {  // A cache row: one byte of key length, the key, then the row.
      if (bytes.empty()) break;
      const size_t key_bytes = std::min<size_t>(bytes[0], bytes.size() - 1);
      const std::span<const uint8_t> key = bytes.subspan(1, key_bytes);
      const std::span<const uint8_t> row_bytes = bytes.subspan(1 + key_bytes);
      auto row = batpak::decode_cache_row(key, row_bytes);
      if (row) require_same(batpak::encode_cache_row(key, *row), row_bytes);
      break;
    }
    case 5: {
      auto newest = batpak::segment::decode_manifest(bytes);
      if (newest) require_same(batpak::segment::encode_manifest(*newest), bytes);
      break;
    }
    case 6: {
      auto horizon = batpak::index::decode_horizon(bytes);
      if (horizon) require_same(batpak::index::encode_horizon(*horizon), bytes);
      break;
    }
    case 7: {
      auto key = batpak::decode_signing_record(bytes);
      if (key) require_same(batpak::encode_signing_record(*key), bytes);
      break;
    }
    case 8: {  // A keys file: whole when nothing is damaged; a damaged record reads as shredded.
      auto keys = batpak::crypto::decode_keys_file(bytes);
      if (!keys) break;
      if (keys->damaged.empty() && keys->partial_tail_bytes == 0) {
        require_same(batpak::crypto::encode_keys_file(keys->wrap, keys->records), bytes);
      }
      for (uint32_t index : keys->damaged) {
        if (keys->records.at(index).state != batpak::crypto::KeyState::kShredded) std::abort();
      }
      break;
    }
    default: {
      batpak::index::Index index;
      auto meta = batpak::index::CheckpointCodec::decode(bytes, index);
      if (meta) require_same(batpak::index::CheckpointCodec::encode(index, *meta), bytes);
      if (!meta && index.size() != 0) std::abort();  // A refused file leaves the index empty.
      break;
    }
  }
  return 0;
}
