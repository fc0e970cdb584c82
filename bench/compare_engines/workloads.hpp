// The workloads of issue 7, each one measurement on one engine (or on the raw file
// baselines) on a fresh directory: the event producer, the timed write loops, the read
// stores, replays, scans and the reopen child.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine.hpp"

namespace engines {

inline constexpr size_t kPayloadBytes = 200;
inline constexpr uint32_t kEntities = 1000;
inline constexpr size_t kRawRecordBytes = 256;  // 200-byte payload + a 56-byte minimal header.

// Makes the events of one writer. For the baselines (`chain`) it keeps each entity's next
// seq and previous hash and computes event_hash = BLAKE3(prev_hash | entity | seq | kind |
// payload), as a user storing hash columns would; for batpak it only picks payloads.
// Payloads come from a pool of 1024 distinct pseudo-random 200-byte buffers.
class Producer {
 public:
  explicit Producer(bool chain);
  Row make(uint32_t entity);

 private:
  bool chain_;
  uint64_t count_ = 0;
  std::vector<uint64_t> seq_;
  std::vector<Hash> prev_;
};

// When off (--no-baseline-hashes), the baselines store zero hash columns: Producer skips
// the BLAKE3 chain. On by default.
void set_baseline_hashes(bool on);

// The payload pool (built once).
const std::vector<std::vector<uint8_t>>& payload_pool();

struct WriteSpec {
  Mode mode = Mode::kDurable;
  int writers = 1;
  size_t per_commit = 1;
  double seconds = 2;
};

// Events per second committed by `spec.writers` threads on a fresh store in `dir` for
// spec.seconds (writer t owns entities t, t + writers, ...; each commit takes the next
// `per_commit` of them). 0 on any failure (reported on stderr). Removes `dir` afterwards.
double measure_write(Engine& engine, const std::string& dir, const WriteSpec& spec);

// The read stores, built with Mode::kBulk in commits of 1000.
//   scan store: `events` events round-robin over 1000 entities (W5, W6).
//   replay store: 2 * kHotEvents events: every other one for entity 0 (the 100,000-event
//   entity), 1,000 spread evenly for entity 1, the rest over entities 2..999 (W4).
inline constexpr uint64_t kHotEvents = 100'000;
inline constexpr uint32_t kHotEntity = 0;
inline constexpr uint32_t kThousandEntity = 1;
enum class StoreShape { kScan, kReplay };
struct Built {
  bool ok = false;
  double seconds = 0;
  uint64_t events = 0;
  uint64_t file_bytes = 0;       // Sum of file sizes in the directory after close.
  uint64_t allocated_bytes = 0;  // Sum of allocated blocks (st_blocks * 512).
  uint64_t logical_bytes = 0;    // Sum of Engine::logical_bytes over the events.
};
Built build_store(Engine& engine, const std::string& dir, StoreShape shape, uint64_t events);

// Seconds per replay of `entity` (expected `events` events): one warm-up replay, then
// replays until `budget_s` has passed (at least 3); the median. 0 on failure.
double measure_replay(Engine& engine, uint32_t entity, uint64_t events, double budget_s);
// Seconds per full scan (expected `events` events): one warm-up scan, then scans until
// `budget_s` has passed (at least 1); the median. 0 on failure.
double measure_scan(Engine& engine, uint64_t events, double budget_s);

// W6: what the reopen child reports.
struct Reopen {
  bool ok = false;
  double open_s = 0;
  double first_query_s = 0;      // Replay of entity 0 right after the open.
  uint64_t rss_before_kib = 0;
  uint64_t peak_rss_kib = 0;     // After open + first query.
  uint64_t peak_rss_scan_kib = 0;  // After a full scan too (when asked).
  std::string open_note;           // Engine::open_note() of the child's open.
};
// Runs `self --reopen-child ENGINE DIR EVENTS SCAN` and parses its line of JSON.
Reopen measure_reopen(const std::string& self, const std::string& engine, const std::string& dir,
                      uint64_t events, bool scan);
// The child: opens `dir` with `engine` in a fresh process, times the open and the first
// query, optionally scans, prints one JSON object. Returns the exit code.
int reopen_child(const std::string& engine, const std::string& dir, uint64_t events, bool scan);

// W7: seconds to read every file of `dir` (warm page cache); with `hash`, BLAKE3 of all the
// bytes read, in one stream. `bytes` receives the byte count.
double measure_read(const std::string& dir, bool hash, uint64_t& bytes);
// W7: payloads per second hashed with BLAKE3, one hash per 200-byte payload, `count` of them.
double measure_blake3(uint64_t count);

// Sum of file sizes (and of allocated bytes) under `dir`.
void disk_usage(const std::string& dir, uint64_t& file_bytes, uint64_t& allocated_bytes);

}  // namespace engines
