// The common interface behind which batpak and each baseline engine (SQLite, RocksDB, LMDB)
// run the workloads of issue 7, and the event rows the driver hands them.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace engines {

using Hash = std::array<uint8_t, 32>;

// One event as the driver produces it. `seq` (1-based, per entity) and the hash chain
// (`prev_hash`, `event_hash`) are filled by the driver for engines that do not sequence and
// hash events themselves (the baselines); batpak ignores them and does both itself.
struct Row {
  uint32_t entity = 0;
  uint64_t seq = 0;
  uint16_t kind = 0x1001;
  std::span<const uint8_t> payload;
  Hash prev_hash{};
  Hash event_hash{};
};

// What a read visits, so no engine can skip the work: the count, the order (sequences must
// increase), and a sum of each payload's length and first byte.
struct Tally {
  uint64_t events = 0;
  uint64_t sum = 0;
  uint64_t last_seq = 0;
  bool in_order = true;

  void add(uint64_t seq, const uint8_t* payload, size_t size) {
    if (seq <= last_seq) in_order = false;
    last_seq = seq;
    ++events;
    sum += size + (size > 0 ? payload[0] : 0u);
  }
};

enum class Mode {
  kDurable,   // Every commit durable on return (W1, W2).
  kBuffered,  // The engine's non-synchronous mode (W3).
  kBulk,      // Building the read stores: fastest safe loading, synced at close.
};

class Engine {
 public:
  virtual ~Engine() = default;
  virtual std::string name() const = 0;
  // True when the driver must sequence and hash rows for this engine (the baselines).
  virtual bool wants_chain() const { return true; }
  // Opens (creating when missing) the store in directory `dir`.
  virtual bool open(const std::string& dir, Mode mode) = 0;
  // Commits `rows` atomically as one transaction. Safe to call from several threads.
  virtual bool commit(std::span<const Row> rows) = 0;
  // Reads every event of `entity` in its sequence order.
  virtual bool replay_entity(uint32_t entity, Tally& tally) = 0;
  // Reads every event in commit (global sequence) order.
  virtual bool scan_all(Tally& tally) = 0;
  // Makes everything durable and releases the store.
  virtual bool close() = 0;
  // Logical bytes of one stored event with a `payload_bytes` payload: the fields it keeps.
  virtual uint64_t logical_bytes(uint32_t entity, size_t payload_bytes) const = 0;
  // The settings in force, for the report.
  virtual std::string settings(Mode mode) const = 0;
  // How the last open went, when the engine can say (batpak: which index path ran and why).
  virtual std::string open_note() const { return ""; }
  // The last error, when a call returned false.
  const std::string& error() const { return error_; }

 protected:
  std::string error_;
};

// What a batpak open may load instead of scanning frames: its default (the index checkpoint,
// then segment footers); footers only (engine name "batpak-footers", the W6 row "from
// footers"); or nothing, so every open rebuilds the index by the full scan
// ("batpak-fullscan", the W6 row "full scan").
enum class BatpakOpen { kCheckpointAndFooters, kFootersOnly, kFullScan };
std::unique_ptr<Engine> make_batpak(BatpakOpen open = BatpakOpen::kCheckpointAndFooters);
std::unique_ptr<Engine> make_sqlite();
std::unique_ptr<Engine> make_rocksdb();
std::unique_ptr<Engine> make_lmdb();
// By name ("batpak", "batpak-footers", "batpak-fullscan", "sqlite", "rocksdb", "lmdb"); null
// for an unknown name.
std::unique_ptr<Engine> make_engine(const std::string& name);

// Big-endian encoding, so keys sort in numeric order.
inline void put_be(uint8_t* out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i, value >>= 8) out[i] = static_cast<uint8_t>(value);
}
inline uint64_t get_be(const uint8_t* in, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | in[i];
  return value;
}

// The baselines' stored record (RocksDB and LMDB values): entity, seq, kind, prev_hash,
// event_hash, then the payload. SQLite stores the same fields as columns.
inline constexpr size_t kRecordHeaderBytes = 4 + 8 + 2 + 32 + 32;
void encode_record(const Row& row, std::vector<uint8_t>& out);

}  // namespace engines
