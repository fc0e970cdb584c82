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
#include "crypto/keys_file.hpp"

namespace batpak::crypto {

// What opening the keys file found. kReadWrite repairs both (docs/encryption.md).
struct KeysOpenReport {
  uint32_t damaged_records = 0;     // Checksum failures: treated as shredded keys.
  uint64_t partial_tail_bytes = 0;  // Bytes of an unfinished record after the last whole one.
};

class Keyset {
 public:
  // Opens `dir`'s keys file; nullptr when there is none and !create. `create` makes an
  // empty one durably first, whose keys are wrapped under `master_key` if one is given.
  // `writable`: damaged records are rewritten as shredded and a partial record at the end is
  // cut, durably. kInvalidArgument when the file's keys are wrapped and `master_key` is
  // missing or wrong, or they are not and one is given. REQUIRES: create implies writable;
  // libsodium initialised (sodium_ready()).
  static Result<std::unique_ptr<Keyset>> open(const std::shared_ptr<Fs>& fs, const std::string& dir, bool writable,
                                              bool create, const std::optional<MasterKey>& master_key,
                                              KeysOpenReport& report);

  // The current key of each entity and its id (1-based: record 0 is id 1), in order. Keys
  // for entities without one (never had, or shredded since) are made, written and synced
  // before any is returned: with one sync for this call and every other call queued behind
  // the same sync, which all get one key per entity. On an error no key of the group is
  // kept, and every call of the group fails with it. REQUIRES: opened writable.
  using KeyAndId = std::pair<uint32_t, Key>;
  Result<std::vector<KeyAndId>> keys_for_append(std::span<const std::string_view> entities);

  // Key `key_id`; nullopt when the file has no such record.
  std::optional<KeyRecord> lookup(uint32_t key_id) const;

  // Destroys every live key of the `entities` in place (zeros written over each, then one
  // sync) and returns how many. The next keys_for_append for one makes a new key. After an
  // error some of them may be destroyed (on disk, or after a crash): call it again.
  // REQUIRES: writable.
  Result<uint32_t> shred(std::span<const std::string_view> entities);
  Result<uint32_t> shred(std::string_view entity) { return shred({&entity, 1}); }

  // Replaces `dir`'s keys file with one whose keys are wrapped under `next` under a new file
  // id (or not wrapped, when `next` is nullopt), and carries on with it. In order: the new
  // file is written and synced under a temporary name, renamed over the old one (from then
  // on this keyset writes to it), the directory is synced, and then the old file's bytes are
  // overwritten with zeros and synced, so that its blocks keep no key. A crash before the
  // directory sync leaves either file; after it, the new one. Errors: kIo; after one from the
  // rename on, the change may or may not have taken effect: call it again. REQUIRES:
  // writable; `dir` and `fs` are the ones the keyset was opened with.
  Status change_master_key(Fs& fs, const std::string& dir, const std::optional<MasterKey>& next);

  // The whole file as it stands (header and every record, keys wrapped as in the file), for
  // a copy of the store.
  std::vector<uint8_t> encode_file() const;
  // The same, with the keys wrapped under `master_key` and a new file id (not wrapped when
  // nullopt): the file a copy opened with that key reads.
  std::vector<uint8_t> encode_file_under(const std::optional<MasterKey>& master_key) const;

  uint32_t key_count() const;
  uint32_t shredded_count() const;
  bool wraps_keys() const;
  // Calls of keys_for_append queued for the next leader (tests use it to build a group).
  size_t requests_waiting() const;

  ~Keyset();

 private:
  // `records` as decoded: their live keys still wrapped when `wrap` is set.
  Keyset(std::unique_ptr<File> file, std::unique_ptr<KeyWrap> wrap, std::vector<KeyRecord> records);
  // The file's bytes with its keys wrapped by `wrap` (not wrapped when null).
  // REQUIRES: mu_ held (shared).
  std::vector<uint8_t> encode_under(const KeyWrap* wrap) const;
  // Fills out[i] for every entity whose current key is known; the indexes of the others.
  // REQUIRES: mu_ held (shared).
  std::vector<size_t> fill_known(std::span<const std::string_view> entities, std::vector<KeyAndId>& out) const;
  Status write_record(uint32_t index, const KeyRecord& record);
  struct KeyRequest;
  // Makes, writes and syncs the missing keys of every request of `group`, and fills each
  // request's `out`. REQUIRES: called by the one leader at work; takes file_mu_.
  Status make_keys(std::span<KeyRequest* const> group);

  // file_ and wrap_ are read under file_mu_ or mu_, and replaced (change_master_key) only
  // with both held.
  std::unique_ptr<File> file_;  // Null unless opened writable.
  std::unique_ptr<KeyWrap> wrap_;  // Null when the file's keys are not wrapped.
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
