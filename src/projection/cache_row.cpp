// Projection cache keys and rows (docs/format.md, "Projection cache rows").
#include <algorithm>
#include <cstring>

#include "batpak/projection.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"

namespace batpak {
namespace {

constexpr uint8_t kRowMagic[4] = {'B', 'P', 'K', 'C'};
constexpr uint16_t kRowVersion = 2;  // 1 had no head hash: such rows are misses, rewritten.
constexpr size_t kRowHeaderBytes = 72;
constexpr size_t kRowChecksumBytes = 8;
constexpr uint16_t kFoldedFromHorizon = 1;  // Flag bit: CacheRow::folded_from_horizon.
constexpr char kKeyDomain[] = "batpak.projection.v1";

}  // namespace

std::vector<uint8_t> projection_cache_key(std::string_view name, uint64_t schema_version,
                                          std::span<const EventKind> relevant_kinds,
                                          std::string_view entity) {
  std::vector<uint16_t> kinds;
  for (EventKind k : relevant_kinds) kinds.push_back(k.raw());
  std::sort(kinds.begin(), kinds.end());
  kinds.erase(std::unique(kinds.begin(), kinds.end()), kinds.end());
  std::vector<uint8_t> kind_bytes;
  util::ByteWriter kw(kind_bytes);
  kw.le<uint32_t>(static_cast<uint32_t>(kinds.size()));
  for (uint16_t k : kinds) kw.le<uint16_t>(k);
  const Hash32 kinds_hash = util::blake3(kind_bytes);

  // Entity last and NUL-terminated: no key is a prefix of another entity's key.
  std::vector<uint8_t> key;
  util::ByteWriter w(key);
  w.text(kKeyDomain);
  w.le<uint8_t>(0);
  w.text(name);
  w.le<uint8_t>(0);
  w.le<uint64_t>(schema_version);
  w.bytes(std::span<const uint8_t>(kinds_hash.bytes).first(8));
  w.text(entity);
  w.le<uint8_t>(0);
  return key;
}

std::vector<uint8_t> encode_cache_row(std::span<const uint8_t> key, const CacheRow& row) {
  std::vector<uint8_t> out;
  util::ByteWriter w(out);
  w.bytes(kRowMagic);
  w.le<uint16_t>(kRowVersion);
  w.le<uint16_t>(row.folded_from_horizon ? kFoldedFromHorizon : 0);
  w.le<uint64_t>(row.watermark);
  w.le<uint64_t>(row.generation);
  w.le<int64_t>(row.cached_at_us);
  w.bytes(row.head_hash.bytes);
  w.le<uint32_t>(static_cast<uint32_t>(key.size()));
  w.le<uint32_t>(static_cast<uint32_t>(row.state.size()));
  w.bytes(key);
  w.bytes(row.state);
  w.le<uint64_t>(util::checksum64(out));
  return out;
}

Result<CacheRow> decode_cache_row(std::span<const uint8_t> key, std::span<const uint8_t> bytes) {
  auto corrupt = [](const char* why) { return make_error(ErrorCode::kCorruption, why); };
  if (bytes.size() < kRowHeaderBytes + kRowChecksumBytes) return corrupt("cache row is truncated");
  const uint8_t* p = bytes.data();
  if (std::memcmp(p, kRowMagic, sizeof(kRowMagic)) != 0) return corrupt("cache row magic is wrong");
  const size_t body = bytes.size() - kRowChecksumBytes;
  if (util::load_le<uint64_t>(p + body) != util::checksum64(bytes.first(body))) {
    return corrupt("cache row checksum mismatch");
  }
  if (util::load_le<uint16_t>(p + 4) != kRowVersion) {
    return make_error(ErrorCode::kUnsupported, "cache row written by another format version");
  }
  const uint16_t flags = util::load_le<uint16_t>(p + 6);
  if ((flags & ~kFoldedFromHorizon) != 0) return corrupt("cache row has unknown flags");
  const size_t key_bytes = util::load_le<uint32_t>(p + 64);
  const size_t state_bytes = util::load_le<uint32_t>(p + 68);
  if (kRowHeaderBytes + key_bytes + state_bytes != body) return corrupt("cache row lengths do not add up");
  if (key_bytes != key.size() || std::memcmp(p + kRowHeaderBytes, key.data(), key.size()) != 0) {
    return corrupt("cache row belongs to another key");
  }
  CacheRow row;
  row.watermark = util::load_le<uint64_t>(p + 8);
  row.generation = util::load_le<uint64_t>(p + 16);
  row.cached_at_us = util::load_le<int64_t>(p + 24);
  std::memcpy(row.head_hash.bytes.data(), p + 32, row.head_hash.bytes.size());
  row.folded_from_horizon = (flags & kFoldedFromHorizon) != 0;
  const uint8_t* state = p + kRowHeaderBytes + key_bytes;
  row.state.assign(state, state + state_bytes);
  return row;
}

}  // namespace batpak
