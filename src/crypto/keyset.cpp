#include "crypto/keyset.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "segment/segment_files.hpp"
#include "util/bytes.hpp"
#include "util/durable_file.hpp"
#include "util/hash.hpp"

namespace batpak::crypto {
namespace {

constexpr uint8_t kKeysMagic[8] = {'B', 'A', 'T', 'P', 'A', 'K', 'K', 'Y'};
constexpr uint32_t kKeysVersion = 1;
constexpr char kEntityTagContext[] = "batpak keys entity tag v1";
// Header: magic (8) | version u32 | record bytes u32 | zeros | checksum u64 at 56.
constexpr size_t kHeaderVersionAt = 8;
constexpr size_t kHeaderRecordBytesAt = 12;
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

std::string tag_key(const EntityTag& tag) { return std::string(tag.begin(), tag.end()); }

std::vector<uint8_t> encode_keys_header() {
  std::vector<uint8_t> out(kKeysHeaderBytes, 0);
  std::memcpy(out.data(), kKeysMagic, sizeof(kKeysMagic));
  util::store_le<uint32_t>(out.data() + kHeaderVersionAt, kKeysVersion);
  util::store_le<uint32_t>(out.data() + kHeaderRecordBytesAt, static_cast<uint32_t>(kKeyRecordBytes));
  seal_checksum(out);
  return out;
}

Status check_keys_header(std::span<const uint8_t> header) {
  if (header.size() < kKeysHeaderBytes) return corrupt("keys file header is short");
  if (std::memcmp(header.data(), kKeysMagic, sizeof(kKeysMagic)) != 0) return corrupt("keys file magic is wrong");
  if (!checksum_ok(header)) return corrupt("keys file header checksum mismatch");
  if (util::load_le<uint32_t>(header.data() + kHeaderVersionAt) != kKeysVersion) {
    return make_error(ErrorCode::kUnsupported, "keys file version is not 1");
  }
  if (util::load_le<uint32_t>(header.data() + kHeaderRecordBytesAt) != kKeyRecordBytes ||
      !all_zero(header.subspan(16, kChecksumAt - 16))) {
    return corrupt("keys file header has a wrong record size or reserved field");
  }
  return {};
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

std::vector<uint8_t> encode_keys_file(std::span<const KeyRecord> records) {
  std::vector<uint8_t> out = encode_keys_header();
  out.reserve(kKeysHeaderBytes + records.size() * kKeyRecordBytes);
  for (const KeyRecord& r : records) {
    const std::vector<uint8_t> record = encode_key_record(r);
    out.insert(out.end(), record.begin(), record.end());
  }
  return out;
}

Result<DecodedKeys> decode_keys_file(std::span<const uint8_t> bytes) {
  if (auto s = check_keys_header(bytes); !s) return tl::unexpected(s.error());
  const std::span<const uint8_t> body = bytes.subspan(kKeysHeaderBytes);
  DecodedKeys out;
  out.partial_tail_bytes = body.size() % kKeyRecordBytes;
  for (size_t at = 0; at + kKeyRecordBytes <= body.size(); at += kKeyRecordBytes) {
    auto record = decode_key_record(body.subspan(at, kKeyRecordBytes));
    if (!record) return tl::unexpected(record.error());
    if (!*record) out.damaged.push_back(static_cast<uint32_t>(out.records.size()));
    out.records.push_back(record->value_or(KeyRecord{KeyState::kShredded, {}, {}}));
  }
  return out;
}

Keyset::Keyset(std::unique_ptr<File> file, std::vector<KeyRecord> records)
    : file_(std::move(file)), records_(std::move(records)) {
  for (size_t i = 0; i < records_.size(); ++i) {
    if (records_[i].state == KeyState::kLive) current_[tag_key(records_[i].entity_tag)] = static_cast<uint32_t>(i + 1);
  }
}

Keyset::~Keyset() {
  for (KeyRecord& r : records_) sodium_memzero(r.key.data(), r.key.size());
}

Result<std::unique_ptr<Keyset>> Keyset::open(const std::shared_ptr<Fs>& fs, const std::string& dir, bool writable,
                                             bool create, KeysOpenReport& report) {
  const std::string path = segment::join_path(dir, kKeysFileName);
  constexpr uint64_t kFileBytesMax = kKeysHeaderBytes + kKeyRecordBytes * (uint64_t{UINT32_MAX} + 1);  // Ids are u32.
  auto read = util::read_decoded_small_file<DecodedKeys>(*fs, path, kFileBytesMax, decode_keys_file);
  if (!read) return tl::unexpected(read.error());
  if (!*read && !create) return std::unique_ptr<Keyset>();
  if (!*read) {
    if (auto s = util::replace_file_durably(*fs, dir, path, encode_keys_header()); !s) return tl::unexpected(s.error());
    read->emplace();
  }
  DecodedKeys& decoded = **read;
  report.damaged_records = static_cast<uint32_t>(decoded.damaged.size());
  report.partial_tail_bytes = decoded.partial_tail_bytes;
  std::unique_ptr<File> file;  // Only a writable keyset writes.
  if (writable) {
    auto opened = fs->open(path, Fs::OpenMode::kReadWrite);
    if (!opened) return tl::unexpected(opened.error());
    file = std::move(*opened);
  }
  std::unique_ptr<Keyset> keyset(new Keyset(std::move(file), std::move(decoded.records)));
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
  return file_->pwrite(kKeysHeaderBytes + uint64_t{index} * kKeyRecordBytes, encode_key_record(record));
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

Result<uint32_t> Keyset::shred(std::string_view entity) {
  const EntityTag tag = entity_tag_of(entity);
  std::lock_guard file_lock(file_mu_);
  std::vector<uint32_t> live;
  {
    std::shared_lock lock(mu_);
    for (size_t i = 0; i < records_.size(); ++i) {
      if (records_[i].state == KeyState::kLive && records_[i].entity_tag == tag) live.push_back(static_cast<uint32_t>(i));
    }
  }
  const KeyRecord shredded{KeyState::kShredded, tag, {}};
  for (uint32_t index : live) {
    if (auto s = write_record(index, shredded); !s) return tl::unexpected(s.error());
  }
  if (live.empty()) return 0u;
  if (auto s = file_->sync(); !s) return tl::unexpected(s.error());
  std::unique_lock lock(mu_);
  for (uint32_t index : live) {
    sodium_memzero(records_[index].key.data(), kKeyBytes);
    records_[index].state = KeyState::kShredded;
  }
  current_.erase(tag_key(tag));
  return static_cast<uint32_t>(live.size());
}

std::vector<uint8_t> Keyset::encode_file() const {
  std::shared_lock lock(mu_);
  return encode_keys_file(records_);
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
