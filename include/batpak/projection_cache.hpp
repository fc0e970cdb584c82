// Projection caches: where projected state is kept between runs. A cache is an
// optimisation, never truth: every row can be rebuilt by replaying the journal, so a cache
// failure never fails a projection (it is observed, see batpak/projection.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "batpak/status.hpp"
#include "batpak/types.hpp"

namespace batpak {

struct CacheCapabilities {
  bool supports_prefetch = false;  // prefetch() does useful work.
  bool is_noop = false;            // The cache never stores anything (projections bypass it).
};

// A key-value store of opaque rows. Keys and rows are produced by the projection engine
// (see encode_cache_row); backends only store bytes.
// Thread safety: implementations must allow concurrent calls from any threads.
class ProjectionCache {
 public:
  virtual ~ProjectionCache() = default;
  virtual CacheCapabilities capabilities() const = 0;
  // The row stored under `key`, or nothing on a miss. Errors are real failures (I/O).
  virtual Result<std::optional<std::vector<uint8_t>>> get(std::span<const uint8_t> key) = 0;
  virtual Status put(std::span<const uint8_t> key, std::span<const uint8_t> row) = 0;
  // Removes every row whose key starts with `prefix` (empty = all); returns how many.
  virtual Result<uint64_t> delete_prefix(std::span<const uint8_t> prefix) = 0;
  // Makes earlier puts durable, where the backend offers durability at all.
  virtual Status sync() = 0;
  // A hint that `key` will be read soon: Store::project calls it, when capabilities() says
  // supports_prefetch, for an entity with events before it works out what the entity's
  // state depends on, then calls get(). Its result is ignored. Default: nothing.
  virtual Status prefetch(std::span<const uint8_t> key) {
    (void)key;
    return {};
  }
};

// A cache that stores nothing: every get misses and projections replay directly.
std::shared_ptr<ProjectionCache> make_no_cache();

// An in-memory LRU cache holding at most `bytes_max` bytes of keys and rows. A row larger
// than the budget is not stored.
std::shared_ptr<ProjectionCache> make_memory_cache(uint64_t bytes_max);

// A cache of one file per row under `root` (created if missing): rows live in
// `<root>/<h[0..2]>/<h>.row`, h = hex BLAKE3 of the key, so keys of any length fit. A row is
// written to a temporary file and renamed into place, deliberately without fsync: the cache
// is derivable, and a row lost in a power cut is a miss. sync() does nothing. Symbolic links
// (root, shard or row) are refused with kIo; a damaged row file is deleted and reported as a
// miss; other I/O failures are errors (projections observe them as kUnavailable).
// Thread safety: every method may be called concurrently, also from several processes.
Result<std::shared_ptr<ProjectionCache>> make_file_cache(const std::string& root);

// An LMDB-backed cache (a B+tree in `dir`, created if missing; map size `map_bytes`).
// Rows are keyed by BLAKE3 of the cache key (LMDB keys are short) and store the full key, so
// a foreign or damaged entry is deleted and reported as a miss. Puts are not flushed
// (MDB_NOSYNC): the cache is derivable; sync() flushes on demand. A put into a full map fails
// with kIo (projections observe it as CacheStatus::kUnavailable and still answer); size the
// map for the working set. Thread safety: every method may be called concurrently. LMDB
// allows one open cache per directory per process.
Result<std::shared_ptr<ProjectionCache>> make_lmdb_cache(const std::string& dir,
                                                         uint64_t map_bytes = 1ull << 30);

// One row of a projection cache: the state bytes and what they reflect.
struct CacheRow {
  uint64_t watermark = 0;    // Global sequence of the last relevant event folded in.
  uint64_t generation = 0;   // Entity generation the state was computed at.
  int64_t cached_at_us = 0;  // Store clock when the row was written.
  std::vector<uint8_t> state;
  // The event hash of the entity's event number `generation`: through the hash chain it
  // names every event the state was folded from, so a row computed from another history
  // (events a power cut took from the log, another store) is never used.
  Hash32 head_hash;
  // The state was folded without the entity's events dropped before the history horizon
  // (ProjectionObservation::folded_from_horizon).
  bool folded_from_horizon = false;
};

// The row format (docs/format.md, "Projection cache rows"): magic, version, the fields
// above, the key, the state, and an XXH3-64 checksum of everything before it. Rows of the
// earlier version 1 (no head hash) decode as kUnsupported.
std::vector<uint8_t> encode_cache_row(std::span<const uint8_t> key, const CacheRow& row);
// Decodes a row stored under `key`. A row that is truncated, corrupt, written by a newer
// format, or stored under another key is kCorruption / kUnsupported: callers treat it as a
// miss, never as an answer.
Result<CacheRow> decode_cache_row(std::span<const uint8_t> key, std::span<const uint8_t> bytes);

}  // namespace batpak
