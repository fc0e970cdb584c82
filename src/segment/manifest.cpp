#include "segment/manifest.hpp"

#include "segment/segment_files.hpp"
#include "util/bytes.hpp"
#include "util/durable_file.hpp"
#include "util/small_file.hpp"

namespace batpak::segment {
namespace {

// The body inside the small-file envelope (util/small_file.hpp): newest_segment_id u64 |
// clean_end u64.
constexpr util::SmallFileFormat kFormat{kManifestMagic, kManifestVersion, "manifest"};
constexpr size_t kBodyBytes = 16;
constexpr uint64_t kFileBytes = util::kSmallFileHeadBytes + kBodyBytes + util::kSmallFileSealBytes;

}  // namespace

std::vector<uint8_t> encode_manifest(const Manifest& manifest) {
  std::vector<uint8_t> out;
  util::begin_small_file(out, kFormat);
  util::ByteWriter w(out);
  w.le<uint64_t>(manifest.newest_segment_id);
  w.le<uint64_t>(manifest.clean_end);
  util::seal_small_file(out);
  return out;
}

Result<Manifest> decode_manifest(std::span<const uint8_t> bytes) {
  auto body = util::open_small_file(bytes, kFormat);
  if (!body) return tl::unexpected(body.error());
  if (body->size() != kBodyBytes) return make_error(ErrorCode::kCorruption, "manifest has a bad length");
  const Manifest manifest{util::load_le<uint64_t>(body->data()), util::load_le<uint64_t>(body->data() + 8)};
  if (manifest.newest_segment_id == 0) return make_error(ErrorCode::kCorruption, "manifest names segment 0");
  return manifest;
}

Result<std::optional<Manifest>> read_manifest(Fs& fs, const std::string& dir) {
  return util::read_decoded_small_file<Manifest>(fs, join_path(dir, kManifestFileName), kFileBytes, decode_manifest);
}

Status write_manifest(Fs& fs, const std::string& dir, const Manifest& manifest) {
  return util::replace_file_durably(fs, dir, join_path(dir, kManifestFileName), encode_manifest(manifest));
}

std::optional<Error> missing_newest_segments(const std::string& dir, std::span<const uint64_t> segment_ids,
                                             uint64_t manifest_newest) {
  const uint64_t newest_found = segment_ids.empty() ? 0 : segment_ids.back();
  if (newest_found >= manifest_newest) return std::nullopt;
  const uint64_t first_missing = newest_found + 1;
  const std::string which = first_missing == manifest_newest
                                ? "segment " + std::to_string(manifest_newest) + " is"
                                : "segments " + std::to_string(first_missing) + " to " + std::to_string(manifest_newest) + " are";
  return Error{ErrorCode::kCorruption,
               which + " missing: the manifest records that segment " + std::to_string(manifest_newest) +
                   " was created",
               join_path(dir, segment_file_name(first_missing)), 0, {}};
}

}  // namespace batpak::segment
