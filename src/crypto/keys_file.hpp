// The keys file's bytes ("keys"; docs/format.md, "The keys file"): its header, its 64-byte
// records, and the wrapping of the keys they hold under a master key. Internal.
// Thread safety: pure functions; a KeyWrap is immutable after construction.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "batpak/options.hpp"
#include "batpak/status.hpp"
#include "crypto/payload_cipher.hpp"

namespace batpak::crypto {

inline constexpr char kKeysFileName[] = "keys";
inline constexpr size_t kKeysHeaderBytes = 64;
inline constexpr size_t kKeyRecordBytes = 64;
inline constexpr size_t kEntityTagBytes = 16;
using EntityTag = std::array<uint8_t, kEntityTagBytes>;

enum class KeyState : uint8_t { kLive = 1, kShredded = 2 };

// One record of the file, decoded. A shredded record's key is all zeros.
struct KeyRecord {
  KeyState state = KeyState::kLive;
  EntityTag entity_tag{};
  Key key{};
};

// The 16-byte tag that names an entity in the keys file: BLAKE3 (derive-key mode) of its name.
EntityTag entity_tag_of(std::string_view entity);

// What the header of a file whose keys are wrapped under a master key holds (version 2).
struct WrapHeader {
  std::array<uint8_t, 16> file_id{};  // Random, made with the file.
  std::array<uint8_t, 16> check{};    // Tells the right master key from a wrong one.
  bool operator==(const WrapHeader&) const = default;
};

// The wrapping of one file's keys under a master key: a subkey and a check value derived
// (BLAKE3, derive-key mode) from the master key and the file id, and an XChaCha20
// keystream under the subkey whose nonce is the file id and the record's index. A wrapped
// key reads as random bytes without the master key; a wrong master key yields wrong keys,
// which no sealed payload opens under (and the check refuses first).
class KeyWrap {
 public:
  KeyWrap(const MasterKey& master_key, const std::array<uint8_t, 16>& file_id);
  ~KeyWrap();
  KeyWrap(const KeyWrap&) = delete;
  KeyWrap& operator=(const KeyWrap&) = delete;

  WrapHeader header() const { return header_; }
  // Wraps or unwraps (the same operation) the key of record `index`.
  Key apply(uint32_t index, const Key& key) const;

 private:
  Key subkey_{};
  WrapHeader header_;
};

std::vector<uint8_t> encode_key_record(const KeyRecord& record);
// nullopt: the checksum fails (a torn shred, or damage). kCorruption: the checksum holds
// but the contents break a rule (unknown state, reserved bytes, a shredded key not zero).
Result<std::optional<KeyRecord>> decode_key_record(std::span<const uint8_t> bytes);

// A whole keys file: its header (version 1, or 2 with `wrap`), then one record per key id,
// as stored (wrapped keys stay wrapped).
std::vector<uint8_t> encode_keys_file(const std::optional<WrapHeader>& wrap, std::span<const KeyRecord> records);
struct DecodedKeys {
  std::optional<WrapHeader> wrap;   // Set for version 2: the keys are wrapped.
  std::vector<KeyRecord> records;   // A damaged record decodes as shredded, with a zero tag.
  std::vector<uint32_t> damaged;    // Indexes of the records whose checksum failed.
  uint64_t partial_tail_bytes = 0;  // Bytes after the last whole record.
};
// kCorruption for a damaged header (short, magic, checksum, record size, reserved field)
// or a record that breaks a rule; kUnsupported for a newer version.
Result<DecodedKeys> decode_keys_file(std::span<const uint8_t> bytes);

}  // namespace batpak::crypto
