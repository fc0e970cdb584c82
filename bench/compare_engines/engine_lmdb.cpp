// LMDB as a careful user would lay out an event log: a database "events" keyed by the
// big-endian global sequence (appended with MDB_APPEND; a cursor walks commit order) and a
// database "by_entity" keyed by big-endian entity + seq -> global sequence. Each commit is
// one write transaction; LMDB runs one at a time, and a durable commit syncs the data pages
// and then the meta page.
#include <lmdb.h>

#include <filesystem>
#include <string>

#include "engine.hpp"

namespace engines {
namespace {

class LmdbEngine final : public Engine {
 public:
  ~LmdbEngine() override { close(); }
  std::string name() const override { return "lmdb"; }

  bool open(const std::string& dir, Mode mode) override {
    std::filesystem::create_directories(dir);
    sync_at_close_ = mode != Mode::kDurable;
    if (!ok(mdb_env_create(&env_), "env_create") || !ok(mdb_env_set_maxdbs(env_, 2), "set_maxdbs") ||
        !ok(mdb_env_set_mapsize(env_, size_t{64} << 30), "set_mapsize") ||
        !ok(mdb_env_open(env_, dir.c_str(), mode == Mode::kDurable ? 0u : unsigned{MDB_NOSYNC}, 0644), "env_open")) {
      return false;
    }
    MDB_txn* txn = nullptr;
    if (!ok(mdb_txn_begin(env_, nullptr, 0, &txn), "txn_begin")) return false;
    MDB_cursor* cursor = nullptr;
    MDB_val key{}, value{};
    const bool opened = ok(mdb_dbi_open(txn, "events", MDB_CREATE, &events_), "dbi_open") &&
                        ok(mdb_dbi_open(txn, "by_entity", MDB_CREATE, &by_entity_), "dbi_open") &&
                        ok(mdb_cursor_open(txn, events_, &cursor), "cursor_open");
    if (!opened) {
      mdb_txn_abort(txn);
      return false;
    }
    const int last = mdb_cursor_get(cursor, &key, &value, MDB_LAST);
    next_ = last == 0 && key.mv_size == 8 ? get_be(static_cast<const uint8_t*>(key.mv_data), 8) : 0;
    mdb_cursor_close(cursor);
    return ok(mdb_txn_commit(txn), "txn_commit");
  }

  bool commit(std::span<const Row> rows) override {
    thread_local std::vector<uint8_t> record;
    MDB_txn* txn = nullptr;
    if (!ok(mdb_txn_begin(env_, nullptr, 0, &txn), "txn_begin")) return false;  // Waits for the writer lock.
    const uint64_t first = next_;
    for (const Row& row : rows) {
      uint8_t event_key[8];
      put_be(event_key, ++next_, 8);
      uint8_t index_key[12];
      put_be(index_key, row.entity, 4);
      put_be(index_key + 4, row.seq, 8);
      encode_record(row, record);
      MDB_val ek{sizeof(event_key), event_key}, ev{record.size(), record.data()};
      MDB_val ik{sizeof(index_key), index_key}, iv{sizeof(event_key), event_key};
      if (!ok(mdb_put(txn, events_, &ek, &ev, MDB_APPEND), "put") || !ok(mdb_put(txn, by_entity_, &ik, &iv, 0), "put")) {
        next_ = first;  // Still inside the transaction: nothing was committed.
        mdb_txn_abort(txn);
        return false;
      }
    }
    return ok(mdb_txn_commit(txn), "txn_commit");
  }

  bool replay_entity(uint32_t entity, Tally& tally) override {
    return read([&](MDB_txn* txn) {
      MDB_cursor* cursor = nullptr;
      if (!ok(mdb_cursor_open(txn, by_entity_, &cursor), "cursor_open")) return false;
      uint8_t start[12];
      put_be(start, entity, 4);
      put_be(start + 4, 0, 8);
      MDB_val key{sizeof(start), start}, value{};
      int rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);
      for (; rc == 0; rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        const auto* k = static_cast<const uint8_t*>(key.mv_data);
        if (key.mv_size != 12 || get_be(k, 4) != entity) break;
        MDB_val record{};
        if (!ok(mdb_get(txn, events_, &value, &record), "get") || !visit(record, get_be(k + 4, 8), tally)) {
          mdb_cursor_close(cursor);
          return false;
        }
      }
      mdb_cursor_close(cursor);
      return rc == 0 || rc == MDB_NOTFOUND || ok(rc, "cursor_get");
    });
  }

  bool scan_all(Tally& tally) override {
    return read([&](MDB_txn* txn) {
      MDB_cursor* cursor = nullptr;
      if (!ok(mdb_cursor_open(txn, events_, &cursor), "cursor_open")) return false;
      MDB_val key{}, value{};
      bool visited = true;
      int rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST);
      for (; rc == 0 && visited; rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
        visited = visit(value, get_be(static_cast<const uint8_t*>(key.mv_data), 8), tally);
      }
      mdb_cursor_close(cursor);
      return visited && (rc == MDB_NOTFOUND || ok(rc, "cursor_get"));
    });
  }

  bool close() override {
    if (env_ == nullptr) return true;
    const bool synced = !sync_at_close_ || ok(mdb_env_sync(env_, 1), "env_sync");
    mdb_env_close(env_);
    env_ = nullptr;
    return synced;
  }

  // global_seq 8, entity 4, seq 8, kind 2, prev_hash 32, event_hash 32, payload.
  uint64_t logical_bytes(uint32_t, size_t payload_bytes) const override { return 86 + payload_bytes; }

  std::string settings(Mode mode) const override {
    switch (mode) {
      case Mode::kDurable: return "default flags (data and meta page synced at every commit)";
      case Mode::kBuffered: return "MDB_NOSYNC (pages written to the OS at commit, not synced)";
      case Mode::kBulk: return "MDB_NOSYNC, one transaction per 1000 rows, mdb_env_sync at close";
    }
    return "";
  }

 private:
  bool ok(int rc, const char* what) {
    if (rc == 0) return true;
    error_ = std::string(what) + ": " + mdb_strerror(rc);
    return false;
  }
  template <class F>
  bool read(F&& body) {
    MDB_txn* txn = nullptr;
    if (!ok(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn), "txn_begin")) return false;
    const bool result = body(txn);
    mdb_txn_abort(txn);
    return result;
  }
  bool visit(const MDB_val& record, uint64_t seq, Tally& tally) {
    if (record.mv_size < kRecordHeaderBytes) {
      error_ = "short record";
      return false;
    }
    const auto* bytes = static_cast<const uint8_t*>(record.mv_data);
    tally.add(seq, bytes + kRecordHeaderBytes, record.mv_size - kRecordHeaderBytes);
    return true;
  }

  MDB_env* env_ = nullptr;
  MDB_dbi events_ = 0;
  MDB_dbi by_entity_ = 0;
  bool sync_at_close_ = false;
  uint64_t next_ = 0;  // Last global sequence; only touched inside a write transaction.
};

}  // namespace

std::unique_ptr<Engine> make_lmdb() { return std::make_unique<LmdbEngine>(); }

}  // namespace engines
