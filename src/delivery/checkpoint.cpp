#include "delivery/checkpoint.hpp"

#include "util/bytes.hpp"
#include "util/durable_file.hpp"
#include "util/hash.hpp"

namespace batpak::delivery {
namespace {

// Layout: magic u32 | version u16 | reserved u16 (0) | position u64 | identity_len u32 |
// identity bytes | XXH3-64 u64 of everything before it. All little-endian.
constexpr size_t kPositionAt = 8;
constexpr size_t kIdentityLenAt = 16;
constexpr size_t kIdentityAt = 20;

Error corrupt(const std::string& why) { return Error{ErrorCode::kCorruption, "cursor checkpoint " + why, {}, 0, {}}; }

}  // namespace

std::vector<uint8_t> encode_checkpoint(const CheckpointRecord& record) {
  std::vector<uint8_t> out;
  util::ByteWriter w(out);
  w.le<uint32_t>(kCheckpointMagic);
  w.le<uint16_t>(kCheckpointVersion);
  w.le<uint16_t>(0);
  w.le<uint64_t>(record.position);
  w.le<uint32_t>(static_cast<uint32_t>(record.region_identity.size()));
  w.bytes({reinterpret_cast<const uint8_t*>(record.region_identity.data()), record.region_identity.size()});
  w.le<uint64_t>(util::checksum64(out));
  return out;
}

Result<CheckpointRecord> decode_checkpoint(std::span<const uint8_t> bytes) {
  if (bytes.size() < kCheckpointFixedBytes) return tl::unexpected(corrupt("is truncated"));
  if (util::load_le<uint32_t>(bytes.data()) != kCheckpointMagic) return tl::unexpected(corrupt("has a bad magic"));
  const size_t identity_len = util::load_le<uint32_t>(bytes.data() + kIdentityLenAt);
  if (bytes.size() != kCheckpointFixedBytes + identity_len) return tl::unexpected(corrupt("has a bad length"));
  const size_t checksum_at = kIdentityAt + identity_len;
  if (util::load_le<uint64_t>(bytes.data() + checksum_at) != util::checksum64(bytes.first(checksum_at))) {
    return tl::unexpected(corrupt("checksum mismatch"));
  }
  const uint16_t version = util::load_le<uint16_t>(bytes.data() + 4);
  if (version > kCheckpointVersion) {
    return make_error(ErrorCode::kUnsupported, "cursor checkpoint version " + std::to_string(version) +
                                                   " is newer than this library's " +
                                                   std::to_string(kCheckpointVersion));
  }
  if (version == 0 || util::load_le<uint16_t>(bytes.data() + 6) != 0) {
    return tl::unexpected(corrupt("has a bad version or reserved field"));
  }
  CheckpointRecord record;
  record.position = util::load_le<uint64_t>(bytes.data() + kPositionAt);
  record.region_identity.assign(reinterpret_cast<const char*>(bytes.data() + kIdentityAt), identity_len);
  return record;
}

std::string checkpoint_dir(const std::string& store_dir) { return store_dir + "/cursors"; }

std::string checkpoint_path(const std::string& store_dir, const std::string& checkpoint_id) {
  return checkpoint_dir(store_dir) + "/" + checkpoint_id + ".ckpt";
}

Result<std::optional<CheckpointRecord>> load_checkpoint(Fs& fs, const std::string& path) {
  auto bytes = util::read_small_file(fs, path, kCheckpointFixedBytes + kRegionIdentityBytesMax);
  if (!bytes) return tl::unexpected(bytes.error());
  if (!*bytes) return std::optional<CheckpointRecord>();
  auto record = decode_checkpoint(**bytes);
  if (!record) {
    Error e = record.error();
    e.file = path;
    return tl::unexpected(std::move(e));
  }
  return std::optional<CheckpointRecord>(std::move(*record));
}

// Creates `<store_dir>/cursors` if it is missing and makes its directory entry durable.
static Status ensure_checkpoint_dir(Fs& fs, const std::string& store_dir) {
  const std::string dir = checkpoint_dir(store_dir);
  auto exists = fs.exists(dir);
  if (!exists) return tl::unexpected(exists.error());
  if (*exists) return {};
  if (auto s = fs.create_dir(dir); !s) return s;
  return fs.sync_dir(store_dir);
}

Status save_checkpoint(Fs& fs, const std::string& store_dir, const std::string& checkpoint_id,
                       const CheckpointRecord& record) {
  if (auto s = ensure_checkpoint_dir(fs, store_dir); !s) return s;
  const std::vector<uint8_t> bytes = encode_checkpoint(record);
  return util::replace_file_durably(fs, checkpoint_dir(store_dir), checkpoint_path(store_dir, checkpoint_id), bytes);
}

}  // namespace batpak::delivery
