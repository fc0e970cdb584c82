// RocksDB as a careful user would lay out an event log in one key space: the event record
// under 'e' + big-endian global sequence (so an iterator walks commit order), and an index
// entry 'i' + big-endian entity + big-endian seq -> global sequence (so an entity replay is
// a prefix scan plus point reads). Each commit is one WriteBatch; concurrent writers are
// group-committed by RocksDB's write thread. Global sequences come from an atomic counter
// taken before the write, so with several writers the key order can differ from the order
// in which batches become visible (a gap may show briefly) — RocksDB's best case.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <memory>
#include <string>

#include "engine.hpp"

namespace engines {
namespace {

class RocksdbEngine final : public Engine {
 public:
  ~RocksdbEngine() override { close(); }
  std::string name() const override { return "rocksdb"; }

  bool open(const std::string& dir, Mode mode) override {
    mode_ = mode;
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    if (!check(rocksdb::DB::Open(options, dir, &db))) return false;
    db_.reset(db);
    write_options_ = rocksdb::WriteOptions();
    write_options_.sync = mode == Mode::kDurable;
    // Continue after the highest global sequence present.
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    it->SeekForPrev(rocksdb::Slice("e\xff\xff\xff\xff\xff\xff\xff\xff", 9));
    next_ = it->Valid() && it->key().size() == 9 && it->key()[0] == 'e'
                ? get_be(reinterpret_cast<const uint8_t*>(it->key().data()) + 1, 8)
                : 0;
    return check(it->status());
  }

  bool commit(std::span<const Row> rows) override {
    thread_local rocksdb::WriteBatch batch;
    thread_local std::vector<uint8_t> record;
    batch.Clear();
    uint64_t global_seq = next_.fetch_add(rows.size());
    for (const Row& row : rows) {
      ++global_seq;
      uint8_t event_key[9] = {'e'};
      put_be(event_key + 1, global_seq, 8);
      uint8_t index_key[13] = {'i'};
      put_be(index_key + 1, row.entity, 4);
      put_be(index_key + 5, row.seq, 8);
      encode_record(row, record);
      batch.Put(slice(event_key, sizeof(event_key)), slice(record.data(), record.size()));
      batch.Put(slice(index_key, sizeof(index_key)), slice(event_key + 1, 8));
    }
    return check(db_->Write(write_options_, &batch));
  }

  bool replay_entity(uint32_t entity, Tally& tally) override {
    uint8_t prefix[5] = {'i'};
    put_be(prefix + 1, entity, 4);
    std::vector<std::string> event_keys;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(slice(prefix, sizeof(prefix))); it->Valid() && it->key().starts_with(slice(prefix, sizeof(prefix)));
         it->Next()) {
      event_keys.push_back("e" + it->value().ToString());
    }
    if (!check(it->status())) return false;
    // Point reads of the records, 256 keys per MultiGet.
    std::vector<rocksdb::Slice> keys;
    std::vector<std::string> values;
    for (size_t first = 0; first < event_keys.size(); first += 256) {
      keys.assign(event_keys.begin() + static_cast<std::ptrdiff_t>(first),
                  event_keys.begin() + static_cast<std::ptrdiff_t>(std::min(event_keys.size(), first + 256)));
      const std::vector<rocksdb::Status> statuses = db_->MultiGet(rocksdb::ReadOptions(), keys, &values);
      for (size_t i = 0; i < keys.size(); ++i) {
        if (!check(statuses[i]) || !visit(values[i], /*seq_from_record=*/true, 0, tally)) return false;
      }
    }
    return true;
  }

  bool scan_all(Tally& tally) override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek("e"); it->Valid() && it->key()[0] == 'e'; it->Next()) {
      const uint64_t global_seq = get_be(reinterpret_cast<const uint8_t*>(it->key().data()) + 1, 8);
      if (!visit(it->value(), false, global_seq, tally)) return false;
    }
    return check(it->status());
  }

  bool close() override {
    if (!db_) return true;
    bool ok = true;
    // A bulk load ends with its memtable flushed to a table file (what a loader would do),
    // so neither the size on disk nor a reopen includes replaying a write-ahead log.
    if (mode_ == Mode::kBulk) ok = check(db_->Flush(rocksdb::FlushOptions()));
    if (mode_ != Mode::kDurable) ok = check(db_->SyncWAL()) && ok;
    ok = check(db_->Close()) && ok;
    db_.reset();
    return ok;
  }

  // global_seq 8, entity 4, seq 8, kind 2, prev_hash 32, event_hash 32, payload.
  uint64_t logical_bytes(uint32_t, size_t payload_bytes) const override { return 86 + payload_bytes; }

  std::string settings(Mode mode) const override {
    switch (mode) {
      case Mode::kDurable: return "WriteOptions.sync=true (WAL fsync per write group)";
      case Mode::kBuffered: return "WriteOptions.sync=false (WAL written to the OS, not synced)";
      case Mode::kBulk: return "WriteOptions.sync=false, WriteBatch of 1000, Flush at close";
    }
    return "";
  }

 private:
  static rocksdb::Slice slice(const uint8_t* data, size_t size) {
    return rocksdb::Slice(reinterpret_cast<const char*>(data), size);
  }
  bool check(const rocksdb::Status& status) {
    if (status.ok()) return true;
    error_ = status.ToString();
    return false;
  }
  bool visit(const rocksdb::Slice& value, bool seq_from_record, uint64_t seq, Tally& tally) {
    if (value.size() < kRecordHeaderBytes) {
      error_ = "short record";
      return false;
    }
    const auto* bytes = reinterpret_cast<const uint8_t*>(value.data());
    tally.add(seq_from_record ? get_be(bytes + 4, 8) : seq, bytes + kRecordHeaderBytes, value.size() - kRecordHeaderBytes);
    return true;
  }

  Mode mode_ = Mode::kDurable;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::WriteOptions write_options_;
  std::atomic<uint64_t> next_{0};
};

}  // namespace

std::unique_ptr<Engine> make_rocksdb() { return std::make_unique<RocksdbEngine>(); }

}  // namespace engines
