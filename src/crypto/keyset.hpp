// The keys file ("keys"): one payload key per entity (a new one after each shred), kept
// durably, destroyed in place by a shred (docs/encryption.md, docs/format.md). Internal.
// Thread safety: every member may be called from any thread. Lookups take a shared lock;
// a new key or a shred writes and syncs the file under `file_mu_`, then publishes under an
// exclusive lock, so readers never wait on a sync. New keys are group-committed: calls that
// need them while one sync runs queue up, and the next leader makes all of theirs with one.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "batpak/env.hpp"
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

std::vector<uint8_t> encode_key_record(const KeyRecord& record);
// nullopt: the checksum fails (a torn shred, or damage). kCorruption: the checksum holds
// but the contents break a rule (unknown state, reserved bytes, a shredded key not zero).
Result<std::optional<KeyRecord>> decode_key_record(std::span<const uint8_t> bytes);

// A whole keys file: its header, then one record per key id.
std::vector<uint8_t> encode_keys_file(std::span<const KeyRecord> records);
struct DecodedKeys {
  std::vector<KeyRecord> records;   // A damaged record decodes as shredded, with a zero tag.
  std::vector<uint32_t> damaged;    // Indexes of the records whose checksum failed.
  uint64_t partial_tail_bytes = 0;  // Bytes after the last whole record.
};
// kCorruption for a damaged header (short, magic, checksum, record size, reserved field)
// or a record that breaks a rule; kUnsupported for a newer version.
Result<DecodedKeys> decode_keys_file(std::span<const uint8_t> bytes);

// What opening the keys file found. kReadWrite repairs both (docs/encryption.md).
struct KeysOpenReport {
  uint32_t damaged_records = 0;     // Checksum failures: treated as shredded keys.
  uint64_t partial_tail_bytes = 0;  // Bytes of an unfinished record after the last whole one.
};

class Keyset {
 public:
  // Opens `dir`'s keys file; nullptr when there is none and !create. `create` makes an
  // empty one durably first. `writable`: damaged records are rewritten as shredded and a
  // partial record at the end is cut, durably. REQUIRES: create implies writable.
  static Result<std::unique_ptr<Keyset>> open(const std::shared_ptr<Fs>& fs, const std::string& dir, bool writable,
                                              bool create, KeysOpenReport& report);

  // The current key of each entity and its id (1-based: record 0 is id 1), in order. Keys
  // for entities without one (never had, or shredded since) are made, written and synced
  // before any is returned: with one sync for this call and every other call queued behind
  // the same sync, which all get one key per entity. On an error no key of the group is
  // kept, and every call of the group fails with it. REQUIRES: opened writable.
  using KeyAndId = std::pair<uint32_t, Key>;
  Result<std::vector<KeyAndId>> keys_for_append(std::span<const std::string_view> entities);

  // Key `key_id`; nullopt when the file has no such record.
  std::optional<KeyRecord> lookup(uint32_t key_id) const;

  // Destroys every live key of `entity` in place (zeros written over it, then a sync) and
  // returns how many. The next keys_for_append for it makes a new key. REQUIRES: writable.
  Result<uint32_t> shred(std::string_view entity);

  // The whole file as it stands (header and every record), for a copy of the store.
  std::vector<uint8_t> encode_file() const;

  uint32_t key_count() const;
  uint32_t shredded_count() const;
  // Calls of keys_for_append queued for the next leader (tests use it to build a group).
  size_t requests_waiting() const;

  ~Keyset();

 private:
  Keyset(std::unique_ptr<File> file, std::vector<KeyRecord> records);
  // Fills out[i] for every entity whose current key is known; the indexes of the others.
  // REQUIRES: mu_ held (shared).
  std::vector<size_t> fill_known(std::span<const std::string_view> entities, std::vector<KeyAndId>& out) const;
  Status write_record(uint32_t index, const KeyRecord& record);
  struct KeyRequest;
  // Makes, writes and syncs the missing keys of every request of `group`, and fills each
  // request's `out`. REQUIRES: called by the one leader at work; takes file_mu_.
  Status make_keys(std::span<KeyRequest* const> group);

  std::unique_ptr<File> file_;  // Null unless opened writable.
  std::mutex file_mu_;  // Serialises writes and syncs of the file; taken before mu_.
  mutable std::mutex queue_mu_;  // Guards queue_ and leader_at_work_; never held during I/O.
  std::condition_variable queue_cv_;  // Signalled when a leader finishes its group.
  std::vector<KeyRequest*> queue_;    // Calls waiting for the next leader.
  bool leader_at_work_ = false;
  mutable std::shared_mutex mu_;
  std::vector<KeyRecord> records_;                      // Guarded by mu_.
  std::unordered_map<std::string, uint32_t> current_;  // Entity tag bytes -> live key id. Guarded by mu_.
};

}  // namespace batpak::crypto
