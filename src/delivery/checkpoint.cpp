#include "delivery/checkpoint.hpp"

#include <algorithm>

#include "util/bytes.hpp"
#include "util/durable_file.hpp"
#include "util/small_file.hpp"

namespace batpak::delivery {
namespace {

// The body inside the small-file envelope (util/small_file.hpp): position u64 |
// identity_len u32 | identity bytes. Little-endian.
constexpr util::SmallFileFormat kFormat{kCheckpointMagic, kCheckpointVersion, "cursor checkpoint"};
constexpr size_t kIdentityLenAt = 8;
constexpr size_t kIdentityAt = 12;

}  // namespace

std::vector<uint8_t> encode_checkpoint(const CheckpointRecord& record) {
  std::vector<uint8_t> out;
  util::begin_small_file(out, kFormat);
  util::ByteWriter w(out);
  w.le<uint64_t>(record.position);
  w.le<uint32_t>(static_cast<uint32_t>(record.region_identity.size()));
  w.text(record.region_identity);
  util::seal_small_file(out);
  return out;
}

Result<CheckpointRecord> decode_checkpoint(std::span<const uint8_t> bytes) {
  auto body = util::open_small_file(bytes, kFormat);
  if (!body) return tl::unexpected(body.error());
  if (body->size() < kIdentityAt || body->size() != kIdentityAt + util::load_le<uint32_t>(body->data() + kIdentityLenAt)) {
    return make_error(ErrorCode::kCorruption, "cursor checkpoint has a bad length");
  }
  CheckpointRecord record;
  record.position = util::load_le<uint64_t>(body->data());
  record.region_identity.assign(reinterpret_cast<const char*>(body->data() + kIdentityAt), body->size() - kIdentityAt);
  return record;
}

std::string checkpoint_dir(const std::string& store_dir) { return store_dir + "/cursors"; }

std::string checkpoint_path(const std::string& store_dir, const std::string& checkpoint_id) {
  return checkpoint_dir(store_dir) + "/" + checkpoint_id + ".ckpt";
}

Result<std::vector<std::string>> list_checkpoint_ids(Fs& fs, const std::string& store_dir) {
  const std::string dir = checkpoint_dir(store_dir);
  auto exists = fs.exists(dir);
  if (!exists) return tl::unexpected(exists.error());
  if (!*exists) return std::vector<std::string>();
  auto names = fs.list_dir(dir);
  if (!names) return tl::unexpected(names.error());
  constexpr std::string_view kSuffix = ".ckpt";  // A leftover "<id>.ckpt.tmp" is no checkpoint.
  std::vector<std::string> ids;
  for (const std::string& name : *names) {
    if (name.size() > kSuffix.size() && name.ends_with(kSuffix)) ids.push_back(name.substr(0, name.size() - kSuffix.size()));
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<std::optional<CheckpointRecord>> load_checkpoint(Fs& fs, const std::string& path) {
  return util::read_decoded_small_file<CheckpointRecord>(fs, path, kCheckpointFixedBytes + kRegionIdentityBytesMax,
                                                         decode_checkpoint);
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

Status remove_checkpoint(Fs& fs, const std::string& store_dir, const std::string& checkpoint_id) {
  if (auto s = fs.remove(checkpoint_path(store_dir, checkpoint_id)); !s) return s;
  return fs.sync_dir(checkpoint_dir(store_dir));
}

}  // namespace batpak::delivery
