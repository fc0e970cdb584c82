#include "crypto/keyset.hpp"

#include <sodium.h>

#include <algorithm>
#include <unordered_set>
#include <utility>

#include "segment/segment_files.hpp"
#include "util/durable_file.hpp"

namespace batpak::crypto {
namespace {

std::string tag_key(const EntityTag& tag) { return std::string(tag.begin(), tag.end()); }

// `record` as a file holds it at `index`: a live key wrapped by `wrap` when there is one.
KeyRecord stored_form(const KeyWrap* wrap, uint32_t index, const KeyRecord& record) {
  KeyRecord stored = record;
  if (wrap && record.state == KeyState::kLive) stored.key = wrap->apply(index, record.key);
  return stored;
}

}  // namespace

Keyset::Keyset(std::unique_ptr<File> file, std::unique_ptr<KeyWrap> wrap, std::vector<KeyRecord> records)
    : file_(std::move(file)), wrap_(std::move(wrap)), records_(std::move(records)) {
  for (size_t i = 0; i < records_.size(); ++i) {
    if (records_[i].state != KeyState::kLive) continue;
    if (wrap_) records_[i].key = wrap_->apply(static_cast<uint32_t>(i), records_[i].key);  // Unwrapped in memory.
    current_[tag_key(records_[i].entity_tag)] = static_cast<uint32_t>(i + 1);
  }
}

Keyset::~Keyset() {
  for (KeyRecord& r : records_) sodium_memzero(r.key.data(), r.key.size());
}

namespace {

// The wrapping of a file with header `wrap` under `master_key`: null for a file whose keys
// are not wrapped; kInvalidArgument when the master key is missing, not wanted or wrong.
Result<std::unique_ptr<KeyWrap>> wrap_for(const std::optional<WrapHeader>& wrap, const std::optional<MasterKey>& master_key) {
  if (!wrap && !master_key) return std::unique_ptr<KeyWrap>();
  if (!wrap) {
    return make_error(ErrorCode::kInvalidArgument,
                      "a master key was given, but this store's payload keys are not wrapped (a master key is "
                      "chosen when the keys file is made)");
  }
  if (!master_key) {
    return make_error(ErrorCode::kInvalidArgument,
                      "this store's payload keys are wrapped under a master key, and none was given "
                      "(StoreOptions::master_key)");
  }
  auto made = std::make_unique<KeyWrap>(*master_key, wrap->file_id);
  if (made->header() != *wrap) {
    return make_error(ErrorCode::kInvalidArgument, "the master key is not the one this store's payload keys are wrapped under");
  }
  return made;
}

// The wrapping of a new keys file under `master_key`, with a fresh file id; null without one.
std::unique_ptr<KeyWrap> new_wrap(const std::optional<MasterKey>& master_key) {
  if (!master_key) return nullptr;
  std::array<uint8_t, 16> file_id;
  randombytes_buf(file_id.data(), file_id.size());
  return std::make_unique<KeyWrap>(*master_key, file_id);
}

// Destroys what a change_master_key that failed or was cut short left under the temporary
// name: a copy of the keys, which a later shred would not reach. Zeros first, then the name.
Status discard_temp_copy(Fs& fs, const std::string& path) {
  const std::string temp = util::temp_path_of(path);
  auto exists = fs.exists(temp);
  if (!exists) return tl::unexpected(exists.error());
  if (!*exists) return {};
  auto file = fs.open(temp, Fs::OpenMode::kReadWrite);
  if (!file) return tl::unexpected(file.error());
  if (auto s = util::overwrite_with_zeros(**file); !s) return s;
  return fs.remove(temp);
}

// A new, empty keys file's contents: wrapped under a fresh file id when there is a master key.
DecodedKeys new_keys_file(const std::optional<MasterKey>& master_key) {
  DecodedKeys fresh;
  if (auto wrap = new_wrap(master_key)) fresh.wrap = wrap->header();
  return fresh;
}

}  // namespace

Result<std::unique_ptr<Keyset>> Keyset::open(const std::shared_ptr<Fs>& fs, const std::string& dir, bool writable,
                                             bool create, const std::optional<MasterKey>& master_key,
                                             KeysOpenReport& report) {
  const std::string path = segment::join_path(dir, kKeysFileName);
  constexpr uint64_t kFileBytesMax = kKeysHeaderBytes + kKeyRecordBytes * (uint64_t{UINT32_MAX} + 1);  // Ids are u32.
  auto read = util::read_decoded_small_file<DecodedKeys>(*fs, path, kFileBytesMax, decode_keys_file);
  if (!read) return tl::unexpected(read.error());
  if (!*read && !create) return std::unique_ptr<Keyset>();
  if (!*read) {
    DecodedKeys fresh = new_keys_file(master_key);
    if (auto s = util::replace_file_durably(*fs, dir, path, encode_keys_file(fresh.wrap, {})); !s) {
      return tl::unexpected(s.error());
    }
    read->emplace(std::move(fresh));
  }
  DecodedKeys& decoded = **read;
  auto wrap = wrap_for(decoded.wrap, master_key);
  if (!wrap) return tl::unexpected(wrap.error());
  report.damaged_records = static_cast<uint32_t>(decoded.damaged.size());
  report.partial_tail_bytes = decoded.partial_tail_bytes;
  std::unique_ptr<File> file;  // Only a writable keyset writes.
  if (writable) {
    if (auto s = discard_temp_copy(*fs, path); !s) return tl::unexpected(s.error());
    auto opened = fs->open(path, Fs::OpenMode::kReadWrite);
    if (!opened) return tl::unexpected(opened.error());
    file = std::move(*opened);
  }
  std::unique_ptr<Keyset> keyset(new Keyset(std::move(file), std::move(*wrap), std::move(decoded.records)));
  if (!writable || (decoded.damaged.empty() && decoded.partial_tail_bytes == 0)) return keyset;
  for (uint32_t index : decoded.damaged) {  // Finish what was most likely a torn shred.
    if (auto s = keyset->write_record(index, keyset->records_[index]); !s) return tl::unexpected(s.error());
  }
  const uint64_t whole = kKeysHeaderBytes + keyset->records_.size() * kKeyRecordBytes;
  if (auto s = keyset->file_->truncate(whole); !s) return tl::unexpected(s.error());
  if (auto s = keyset->file_->sync(); !s) return tl::unexpected(s.error());
  return keyset;
}

Status Keyset::write_record(uint32_t index, const KeyRecord& record) {
  KeyRecord stored = stored_form(wrap_.get(), index, record);
  const std::vector<uint8_t> bytes = encode_key_record(stored);
  sodium_memzero(stored.key.data(), stored.key.size());
  return file_->pwrite(kKeysHeaderBytes + uint64_t{index} * kKeyRecordBytes, bytes);
}

std::vector<size_t> Keyset::fill_known(std::span<const std::string_view> entities, std::vector<KeyAndId>& out) const {
  std::vector<size_t> missing;
  for (size_t i = 0; i < entities.size(); ++i) {
    if (auto it = current_.find(tag_key(entity_tag_of(entities[i]))); it != current_.end()) {
      out[i] = KeyAndId{it->second, records_[it->second - 1].key};
    } else {
      missing.push_back(i);
    }
  }
  return missing;
}

// What one keys_for_append call asks of the keys file, and what it is told. The leader that
// takes it fills `out` and `status`, then sets `done` under queue_mu_.
struct Keyset::KeyRequest {
  std::span<const std::string_view> entities;
  std::vector<KeyAndId>* out = nullptr;
  Status status;
  bool done = false;
};

Result<std::vector<Keyset::KeyAndId>> Keyset::keys_for_append(std::span<const std::string_view> entities) {
  std::vector<KeyAndId> out(entities.size());
  {
    std::shared_lock lock(mu_);
    if (fill_known(entities, out).empty()) return out;
  }
  // Group commit: whoever finds no leader at work makes the keys of every request queued so
  // far with one sync; the others wait for it and the next leader.
  KeyRequest request{entities, &out, {}, false};
  std::unique_lock queue_lock(queue_mu_);
  queue_.push_back(&request);
  while (!request.done) {
    if (leader_at_work_) {
      queue_cv_.wait(queue_lock);
      continue;
    }
    leader_at_work_ = true;
    std::vector<KeyRequest*> group;
    group.swap(queue_);
    queue_lock.unlock();
    const Status status = make_keys(group);
    queue_lock.lock();
    for (KeyRequest* r : group) {
      r->status = status;
      r->done = true;
    }
    leader_at_work_ = false;
    queue_cv_.notify_all();
  }
  if (!request.status) return tl::unexpected(request.status.error());
  return out;
}

Status Keyset::make_keys(std::span<KeyRequest* const> group) {
  std::lock_guard file_lock(file_mu_);  // Only its holders add records.
  std::vector<std::vector<size_t>> missing(group.size());
  uint32_t next_index = 0;
  {
    std::shared_lock lock(mu_);  // Another group may have made some while this one queued.
    for (size_t g = 0; g < group.size(); ++g) missing[g] = fill_known(group[g]->entities, *group[g]->out);
    next_index = static_cast<uint32_t>(records_.size());
  }
  std::vector<KeyRecord> made;
  std::unordered_map<std::string, uint32_t> made_ids;  // An entity named twice gets one key.
  for (size_t g = 0; g < group.size(); ++g) {
    for (size_t i : missing[g]) {
      const EntityTag tag = entity_tag_of(group[g]->entities[i]);
      auto [it, fresh] = made_ids.try_emplace(tag_key(tag), next_index + static_cast<uint32_t>(made.size()) + 1);
      if (fresh) {
        made.push_back(KeyRecord{KeyState::kLive, tag, {}});
        crypto_aead_xchacha20poly1305_ietf_keygen(made.back().key.data());
      }
      (*group[g]->out)[i] = KeyAndId{it->second, made[it->second - next_index - 1].key};
    }
  }
  // Durable before any payload sealed under them can be: a crash must not keep an event
  // whose key it lost.
  for (size_t k = 0; k < made.size(); ++k) {
    if (auto s = write_record(next_index + static_cast<uint32_t>(k), made[k]); !s) return s;
  }
  if (auto s = file_->sync(); !s) return s;
  std::unique_lock lock(mu_);
  for (const KeyRecord& record : made) records_.push_back(record);
  for (const auto& [name, id] : made_ids) current_[name] = id;
  for (KeyRecord& record : made) sodium_memzero(record.key.data(), record.key.size());
  return {};
}

size_t Keyset::requests_waiting() const {
  std::lock_guard lock(queue_mu_);
  return queue_.size();
}

std::optional<KeyRecord> Keyset::lookup(uint32_t key_id) const {
  std::shared_lock lock(mu_);
  if (key_id == 0 || key_id > records_.size()) return std::nullopt;
  return records_[key_id - 1];
}

Result<uint32_t> Keyset::shred(std::span<const std::string_view> entities) {
  std::unordered_set<std::string> tags;
  for (std::string_view entity : entities) tags.insert(tag_key(entity_tag_of(entity)));
  std::lock_guard file_lock(file_mu_);
  std::vector<std::pair<uint32_t, EntityTag>> live;
  {
    std::shared_lock lock(mu_);
    for (size_t i = 0; i < records_.size(); ++i) {
      if (records_[i].state == KeyState::kLive && tags.contains(tag_key(records_[i].entity_tag))) {
        live.emplace_back(static_cast<uint32_t>(i), records_[i].entity_tag);
      }
    }
  }
  for (const auto& [index, tag] : live) {
    if (auto s = write_record(index, KeyRecord{KeyState::kShredded, tag, {}}); !s) return tl::unexpected(s.error());
  }
  if (live.empty()) return 0u;
  if (auto s = file_->sync(); !s) return tl::unexpected(s.error());
  std::unique_lock lock(mu_);
  for (const auto& [index, tag] : live) {
    sodium_memzero(records_[index].key.data(), kKeyBytes);
    records_[index].state = KeyState::kShredded;
  }
  for (const std::string& tag : tags) current_.erase(tag);
  return static_cast<uint32_t>(live.size());
}

std::vector<uint8_t> Keyset::encode_under(const KeyWrap* wrap) const {
  std::vector<KeyRecord> stored;
  stored.reserve(records_.size());
  for (size_t i = 0; i < records_.size(); ++i) stored.push_back(stored_form(wrap, static_cast<uint32_t>(i), records_[i]));
  std::vector<uint8_t> bytes = encode_keys_file(wrap ? std::optional(wrap->header()) : std::nullopt, stored);
  for (KeyRecord& r : stored) sodium_memzero(r.key.data(), r.key.size());
  return bytes;
}

std::vector<uint8_t> Keyset::encode_file() const {
  std::shared_lock lock(mu_);
  return encode_under(wrap_.get());
}

std::vector<uint8_t> Keyset::encode_file_under(const std::optional<MasterKey>& master_key) const {
  const std::unique_ptr<KeyWrap> wrap = new_wrap(master_key);
  std::shared_lock lock(mu_);
  return encode_under(wrap.get());
}

Status Keyset::change_master_key(Fs& fs, const std::string& dir, const std::optional<MasterKey>& next) {
  std::lock_guard file_lock(file_mu_);  // No key is made or shredded meanwhile.
  std::unique_ptr<KeyWrap> next_wrap = new_wrap(next);
  std::vector<uint8_t> bytes;
  {
    std::shared_lock lock(mu_);
    bytes = encode_under(next_wrap.get());
  }
  const std::string path = segment::join_path(dir, kKeysFileName);
  const std::string temp = util::temp_path_of(path);
  auto written = util::write_file_durably(fs, temp, bytes);
  sodium_memzero(bytes.data(), bytes.size());
  Status renamed = written ? fs.rename(temp, path) : Status(tl::unexpected(written.error()));
  if (!renamed) {
    (void)discard_temp_copy(fs, path);  // Best effort; a writable open tries again.
    return renamed;
  }
  std::unique_ptr<File> old_file;
  {
    std::unique_lock lock(mu_);  // The path names the new file now: write only to it.
    old_file = std::exchange(file_, std::move(*written));
    wrap_ = std::move(next_wrap);
  }
  // Until the rename is durable a crash may bring the old file back: keep it whole till then.
  if (auto s = fs.sync_dir(dir); !s) return s;
  return util::overwrite_with_zeros(*old_file);
}

bool Keyset::wraps_keys() const {
  std::shared_lock lock(mu_);
  return wrap_ != nullptr;
}

uint32_t Keyset::key_count() const {
  std::shared_lock lock(mu_);
  return static_cast<uint32_t>(records_.size());
}

uint32_t Keyset::shredded_count() const {
  std::shared_lock lock(mu_);
  return static_cast<uint32_t>(
      std::count_if(records_.begin(), records_.end(), [](const KeyRecord& r) { return r.state == KeyState::kShredded; }));
}

}  // namespace batpak::crypto
