// SQLite as a careful user would set it up for an event log: WAL, one table with the
// global sequence as the rowid, a UNIQUE (entity, seq) constraint (its index serves entity
// replays), hash columns, and prepared statements reused. One connection, shared by all
// writer threads under a mutex (SQLite has one writer at a time in any case).
#include <sqlite3.h>

#include <filesystem>
#include <mutex>
#include <string>

#include "engine.hpp"

namespace engines {
namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS events("
    " global_seq INTEGER PRIMARY KEY,"
    " entity INTEGER NOT NULL,"
    " seq INTEGER NOT NULL,"
    " kind INTEGER NOT NULL,"
    " payload BLOB NOT NULL,"
    " prev_hash BLOB NOT NULL,"
    " event_hash BLOB NOT NULL,"
    " UNIQUE(entity, seq))";

class SqliteEngine final : public Engine {
 public:
  ~SqliteEngine() override { close(); }
  std::string name() const override { return "sqlite"; }

  bool open(const std::string& dir, Mode mode) override {
    std::filesystem::create_directories(dir);
    if (sqlite3_open_v2((dir + "/events.db").c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
      return fail("open");
    }
    const char* sync = mode == Mode::kDurable ? "FULL" : mode == Mode::kBuffered ? "NORMAL" : "OFF";
    if (!exec("PRAGMA journal_mode=WAL") || !exec(std::string("PRAGMA synchronous=") + sync) || !exec(kSchema)) {
      return false;
    }
    return prepare("INSERT INTO events(entity, seq, kind, payload, prev_hash, event_hash) VALUES(?1, ?2, ?3, ?4, ?5, ?6)", &insert_) &&
           prepare("SELECT seq, payload, kind, prev_hash, event_hash FROM events WHERE entity = ?1 ORDER BY seq", &replay_) &&
           prepare("SELECT global_seq, payload, kind, prev_hash, event_hash FROM events ORDER BY global_seq", &scan_) &&
           prepare("BEGIN IMMEDIATE", &begin_) && prepare("COMMIT", &commit_) && prepare("ROLLBACK", &rollback_);
  }

  bool commit(std::span<const Row> rows) override {
    std::lock_guard<std::mutex> lock(mu_);
    const bool transaction = rows.size() > 1;  // A single INSERT is its own transaction.
    if (transaction && !step_done(begin_)) return false;
    for (const Row& row : rows) {
      sqlite3_bind_int64(insert_, 1, row.entity);
      sqlite3_bind_int64(insert_, 2, static_cast<sqlite3_int64>(row.seq));
      sqlite3_bind_int(insert_, 3, row.kind);
      sqlite3_bind_blob(insert_, 4, row.payload.data(), static_cast<int>(row.payload.size()), SQLITE_STATIC);
      sqlite3_bind_blob(insert_, 5, row.prev_hash.data(), static_cast<int>(row.prev_hash.size()), SQLITE_STATIC);
      sqlite3_bind_blob(insert_, 6, row.event_hash.data(), static_cast<int>(row.event_hash.size()), SQLITE_STATIC);
      if (!step_done(insert_)) {
        if (transaction) step_done(rollback_);
        return false;
      }
    }
    return !transaction || step_done(commit_);
  }

  bool replay_entity(uint32_t entity, Tally& tally) override {
    sqlite3_bind_int64(replay_, 1, entity);
    return read_rows(replay_, tally);
  }

  bool scan_all(Tally& tally) override { return read_rows(scan_, tally); }

  bool close() override {
    for (sqlite3_stmt** s : {&insert_, &replay_, &scan_, &begin_, &commit_, &rollback_}) {
      sqlite3_finalize(*s);
      *s = nullptr;
    }
    if (db_ == nullptr) return true;
    // The last connection's close checkpoints the WAL into the database and deletes it.
    const int rc = sqlite3_close(db_);
    db_ = nullptr;
    return rc == SQLITE_OK ? true : (error_ = "close failed", false);
  }

  // Columns: global_seq 8, entity 4, seq 8, kind 2, prev_hash 32, event_hash 32, payload.
  uint64_t logical_bytes(uint32_t, size_t payload_bytes) const override { return 86 + payload_bytes; }

  std::string settings(Mode mode) const override {
    switch (mode) {
      case Mode::kDurable: return "journal_mode=WAL, synchronous=FULL";
      case Mode::kBuffered: return "journal_mode=WAL, synchronous=NORMAL (no sync at commit)";
      case Mode::kBulk: return "journal_mode=WAL, synchronous=OFF, one transaction per 1000 rows";
    }
    return "";
  }

 private:
  bool fail(const std::string& what) {
    error_ = what + ": " + (db_ != nullptr ? sqlite3_errmsg(db_) : "no connection");
    return false;
  }
  bool exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) == SQLITE_OK) return true;
    error_ = sql + ": " + (message != nullptr ? message : "?");
    sqlite3_free(message);
    return false;
  }
  bool prepare(const char* sql, sqlite3_stmt** statement) {
    return sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, statement, nullptr) == SQLITE_OK || fail(sql);
  }
  bool step_done(sqlite3_stmt* statement) {
    const int rc = sqlite3_step(statement);
    sqlite3_reset(statement);
    return rc == SQLITE_DONE || fail("step");
  }
  // Fetches every column of each row (as a reader of whole events would), visits the payload.
  bool read_rows(sqlite3_stmt* statement, Tally& tally) {
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(statement)) == SQLITE_ROW) {
      tally.sum += static_cast<uint64_t>(sqlite3_column_int(statement, 2) + sqlite3_column_bytes(statement, 3) +
                                         sqlite3_column_bytes(statement, 4));
      const auto* payload = static_cast<const uint8_t*>(sqlite3_column_blob(statement, 1));
      tally.add(static_cast<uint64_t>(sqlite3_column_int64(statement, 0)), payload,
                static_cast<size_t>(sqlite3_column_bytes(statement, 1)));
    }
    sqlite3_reset(statement);
    return rc == SQLITE_DONE || fail("read");
  }

  std::mutex mu_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* replay_ = nullptr;
  sqlite3_stmt* scan_ = nullptr;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  sqlite3_stmt* rollback_ = nullptr;
};

}  // namespace

std::unique_ptr<Engine> make_sqlite() { return std::make_unique<SqliteEngine>(); }

}  // namespace engines
