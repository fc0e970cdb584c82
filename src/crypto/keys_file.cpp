#include "crypto/keys_file.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "util/bytes.hpp"
#include "util/hash.hpp"

namespace batpak::crypto {
namespace {

constexpr uint8_t kKeysMagic[8] = {'B', 'A', 'T', 'P', 'A', 'K', 'K', 'Y'};
constexpr uint32_t kPlainVersion = 1;    // Keys stored as they are.
constexpr uint32_t kWrappedVersion = 2;  // Keys wrapped under a master key.
constexpr char kEntityTagContext[] = "batpak keys entity tag v1";
constexpr char kWrapSubkeyContext[] = "batpak keys wrapping subkey v1";
constexpr char kWrapCheckContext[] = "batpak keys master key check v1";
// Header: magic (8) | version u32 | record bytes u32 | [version 2: file id (16) | master
// key check (16)] | zeros | checksum u64 at 56.
constexpr size_t kHeaderVersionAt = 8;
constexpr size_t kHeaderRecordBytesAt = 12;
constexpr size_t kHeaderFileIdAt = 16;
constexpr size_t kHeaderCheckAt = 32;
constexpr size_t kHeaderZerosAt = 48;
// Record: state u8 | zeros (7) | entity tag (16) | key (32) | checksum u64 at 56.
constexpr size_t kRecordTagAt = 8;
constexpr size_t kRecordKeyAt = 24;
constexpr size_t kChecksumAt = 56;  // XXH3-64 of bytes [0, 56), in the header and in records.

tl::unexpected<Error> corrupt(const std::string& why) { return make_error(ErrorCode::kCorruption, why); }

bool all_zero(std::span<const uint8_t> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

void seal_checksum(std::vector<uint8_t>& block) {
  util::store_le<uint64_t>(block.data() + kChecksumAt, util::checksum64({block.data(), kChecksumAt}));
}

bool checksum_ok(std::span<const uint8_t> block) {
  return util::load_le<uint64_t>(block.data() + kChecksumAt) == util::checksum64(block.first(kChecksumAt));
}

std::vector<uint8_t> encode_keys_header(const std::optional<WrapHeader>& wrap) {
  std::vector<uint8_t> out(kKeysHeaderBytes, 0);
  std::memcpy(out.data(), kKeysMagic, sizeof(kKeysMagic));
  util::store_le<uint32_t>(out.data() + kHeaderVersionAt, wrap ? kWrappedVersion : kPlainVersion);
  util::store_le<uint32_t>(out.data() + kHeaderRecordBytesAt, static_cast<uint32_t>(kKeyRecordBytes));
  if (wrap) {
    std::copy(wrap->file_id.begin(), wrap->file_id.end(), out.begin() + kHeaderFileIdAt);
    std::copy(wrap->check.begin(), wrap->check.end(), out.begin() + kHeaderCheckAt);
  }
  seal_checksum(out);
  return out;
}

// The header's wrapping (nullopt for version 1), once its bytes are checked.
Result<std::optional<WrapHeader>> decode_keys_header(std::span<const uint8_t> header) {
  if (header.size() < kKeysHeaderBytes) return corrupt("keys file header is short");
  if (std::memcmp(header.data(), kKeysMagic, sizeof(kKeysMagic)) != 0) return corrupt("keys file magic is wrong");
  if (!checksum_ok(header)) return corrupt("keys file header checksum mismatch");
  const uint32_t version = util::load_le<uint32_t>(header.data() + kHeaderVersionAt);
  if (version != kPlainVersion && version != kWrappedVersion) {
    return make_error(ErrorCode::kUnsupported, "keys file version is not 1 or 2");
  }
  const size_t zeros_at = version == kWrappedVersion ? kHeaderZerosAt : kHeaderFileIdAt;
  if (util::load_le<uint32_t>(header.data() + kHeaderRecordBytesAt) != kKeyRecordBytes ||
      !all_zero(header.subspan(zeros_at, kChecksumAt - zeros_at))) {
    return corrupt("keys file header has a wrong record size or reserved field");
  }
  if (version == kPlainVersion) return std::optional<WrapHeader>();
  WrapHeader wrap;
  std::copy_n(header.begin() + kHeaderFileIdAt, wrap.file_id.size(), wrap.file_id.begin());
  std::copy_n(header.begin() + kHeaderCheckAt, wrap.check.size(), wrap.check.begin());
  return std::optional<WrapHeader>(wrap);
}

// BLAKE3 in derive-key mode under `context` of the master key followed by the file id.
Hash32 derive(const char* context, const MasterKey& master_key, const std::array<uint8_t, 16>& file_id) {
  util::Blake3 hasher(context);
  hasher.update(master_key);
  hasher.update(file_id);
  return hasher.finish();
}

}  // namespace

EntityTag entity_tag_of(std::string_view entity) {
  static const util::Blake3 kContextSeeded(kEntityTagContext);  // The context key, derived once.
  util::Blake3 hasher(kContextSeeded);
  hasher.update(entity);
  const Hash32 digest = hasher.finish();
  EntityTag tag;
  std::copy_n(digest.bytes.begin(), tag.size(), tag.begin());
  return tag;
}

KeyWrap::KeyWrap(const MasterKey& master_key, const std::array<uint8_t, 16>& file_id) {
  Hash32 subkey = derive(kWrapSubkeyContext, master_key, file_id);
  std::copy(subkey.bytes.begin(), subkey.bytes.end(), subkey_.begin());
  sodium_memzero(subkey.bytes.data(), subkey.bytes.size());
  const Hash32 check = derive(kWrapCheckContext, master_key, file_id);
  header_.file_id = file_id;
  std::copy_n(check.bytes.begin(), header_.check.size(), header_.check.begin());
}

KeyWrap::~KeyWrap() { sodium_memzero(subkey_.data(), subkey_.size()); }

Key KeyWrap::apply(uint32_t index, const Key& key) const {
  static_assert(crypto_stream_xchacha20_NONCEBYTES == 24 && crypto_stream_xchacha20_KEYBYTES == kKeyBytes);
  std::array<uint8_t, crypto_stream_xchacha20_NONCEBYTES> nonce{};  // File id | index u32 LE | zeros.
  std::copy(header_.file_id.begin(), header_.file_id.end(), nonce.begin());
  util::store_le<uint32_t>(nonce.data() + header_.file_id.size(), index);
  Key out;
  crypto_stream_xchacha20_xor(out.data(), key.data(), key.size(), nonce.data(), subkey_.data());
  return out;
}

std::vector<uint8_t> encode_key_record(const KeyRecord& record) {
  std::vector<uint8_t> out(kKeyRecordBytes, 0);
  out[0] = static_cast<uint8_t>(record.state);
  std::memcpy(out.data() + kRecordTagAt, record.entity_tag.data(), kEntityTagBytes);
  std::memcpy(out.data() + kRecordKeyAt, record.key.data(), kKeyBytes);
  seal_checksum(out);
  return out;
}

Result<std::optional<KeyRecord>> decode_key_record(std::span<const uint8_t> bytes) {
  if (bytes.size() != kKeyRecordBytes) return corrupt("key record has the wrong size");
  if (!checksum_ok(bytes)) return std::optional<KeyRecord>();
  KeyRecord record;
  std::memcpy(record.entity_tag.data(), bytes.data() + kRecordTagAt, kEntityTagBytes);
  std::memcpy(record.key.data(), bytes.data() + kRecordKeyAt, kKeyBytes);
  const bool shredded = bytes[0] == static_cast<uint8_t>(KeyState::kShredded);
  if (!all_zero(bytes.subspan(1, kRecordTagAt - 1)) || (bytes[0] != static_cast<uint8_t>(KeyState::kLive) && !shredded) ||
      (shredded && !all_zero(record.key))) {
    return corrupt("key record has an unknown state, a reserved byte set or a shredded key not zero");
  }
  record.state = static_cast<KeyState>(bytes[0]);
  return std::optional<KeyRecord>(record);
}

std::vector<uint8_t> encode_keys_file(const std::optional<WrapHeader>& wrap, std::span<const KeyRecord> records) {
  std::vector<uint8_t> out = encode_keys_header(wrap);
  out.reserve(kKeysHeaderBytes + records.size() * kKeyRecordBytes);
  for (const KeyRecord& r : records) {
    const std::vector<uint8_t> record = encode_key_record(r);
    out.insert(out.end(), record.begin(), record.end());
  }
  return out;
}

Result<DecodedKeys> decode_keys_file(std::span<const uint8_t> bytes) {
  auto wrap = decode_keys_header(bytes);
  if (!wrap) return tl::unexpected(wrap.error());
  const std::span<const uint8_t> body = bytes.subspan(kKeysHeaderBytes);
  DecodedKeys out;
  out.wrap = *wrap;
  out.partial_tail_bytes = body.size() % kKeyRecordBytes;
  for (size_t at = 0; at + kKeyRecordBytes <= body.size(); at += kKeyRecordBytes) {
    auto record = decode_key_record(body.subspan(at, kKeyRecordBytes));
    if (!record) return tl::unexpected(record.error());
    if (!*record) out.damaged.push_back(static_cast<uint32_t>(out.records.size()));
    out.records.push_back(record->value_or(KeyRecord{KeyState::kShredded, {}, {}}));
  }
  return out;
}

}  // namespace batpak::crypto
