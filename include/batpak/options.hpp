// Options for opening a store and for appending.
// Thread safety: plain values.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "batpak/env.hpp"
#include "batpak/projection_cache.hpp"
#include "batpak/types.hpp"

namespace batpak {

// When an append returns.
enum class Durability : uint8_t {
  // Return only after the event's bytes are durable (fdatasync completed). Concurrent
  // appenders share one write and one fdatasync (group commit).
  kSync,
  // Return once the bytes reached the operating system: stored into the tail ring, a file
  // mapped shared (or, on an Fs that cannot map files, written with pwrite). The event
  // survives a process crash (the next read-write open takes it from the ring if need be)
  // but not a power cut until the next sync, which happens every `sync_every_events`
  // events, every `sync_every_ms` milliseconds, or on Store::sync(). The writer thread
  // writes the ring's events to their segment; a read waits for it, so it sees every append
  // that returned before it.
  kBuffered,
  // Return once the event is sequenced and encoded in the writer's queue; the writer thread
  // writes queued events continuously and syncs on the kBuffered cadence. A process crash can
  // lose the events not yet written (typically microseconds' worth), never a synced one, and
  // never leaves a gap: what survives is always a prefix of the commit order. An event is
  // readable once written; Store::sync() waits until everything appended is durable. The
  // queue is bounded (StoreOptions::async_queue_bytes_max): when the disk falls behind, an
  // append waits for room instead of growing memory.
  kAsync,
};

enum class AccessMode : uint8_t {
  kReadWrite,  // The only mode that appends. Recovers a torn tail of the newest segment.
  kReadOnly,   // Reads only; refuses to open a damaged store; never modifies a file.
  kSalvage,    // Reads only, up to the first damage; reports where it stopped.
  // Reads only, as kReadOnly, but takes no lock: it opens a store that a writer (another
  // process, or another Store) holds, and reads it as it stood during the open, a prefix of
  // the commit order that holds every event whose append returned before the open began
  // (kSync; kBuffered and kAsync: every event the writer thread had written to its segment).
  // Later appends are not seen: open again for a newer snapshot. The snapshot may also hold
  // events whose append is still waiting for its fdatasync, and the open report's torn tail
  // is then usually a write in flight, not damage. Reads of segments removed since the open
  // (Store::drop_history, which needs the writer gone) fail. docs/durability.md, "Snapshots".
  kReadSnapshot,
};

inline constexpr size_t kIdempotencyKeyBytesMax = 256;
inline constexpr uint64_t kAsyncQueueBytesMin = 64ull << 10;
inline constexpr uint64_t kAsyncQueueBytesMax = 16ull << 30;

// A master key (StoreOptions::master_key): 32 secret bytes. Keep it apart from the data
// directory; without it, a store whose keys it wraps cannot be opened.
inline constexpr size_t kMasterKeyBytes = 32;
using MasterKey = std::array<uint8_t, kMasterKeyBytes>;
// A new master key from the operating system's secure random source (libsodium's
// randombytes_buf). Errors: kIo when libsodium cannot initialise.
Result<MasterKey> generate_master_key();

struct StoreOptions {
  AccessMode access = AccessMode::kReadWrite;
  Durability durability = Durability::kSync;
  uint32_t sync_every_events = 1000;   // kBuffered only; must be > 0.
  uint32_t sync_every_ms = 50;         // kBuffered only; must be > 0.
  uint64_t segment_bytes_max = 64ull << 20;   // Rotation threshold; 4 KiB .. 16 GiB.
  uint32_t payload_bytes_max = 16u << 20;     // Per event; 1 .. 256 MiB.
  uint32_t batch_events_max = 4096;           // Per append_batch; 1 .. 65536.
  uint64_t batch_bytes_max = 64ull << 20;     // Sum of payloads per batch.
  uint32_t preallocate_bytes = 4u << 20;      // Zero-filled space written ahead of the tail.
  // How many segment files the store keeps open at most (one file descriptor each): the
  // newest, and the most recently read others; a closed one is opened again when read. At
  // least 2. Reads that spread over more segments than this reopen files as they go.
  size_t open_segment_files_max = 256;
  // kBuffered: the size of the tail ring ("tail.ring"), the shared file mapping where an
  // append leaves its frames before it returns (docs/durability.md). A multiple of 4096
  // within 64 KiB .. 1 GiB. A commit larger than half of it waits for its segment write.
  uint64_t tail_ring_bytes = 8ull << 20;
  // kAsync: at most this many bytes of encoded frames wait in the writer's queue (queued or
  // being written). An append that would pass it waits until the writer thread has written
  // enough; one larger than the bound alone waits until the queue is empty. Within
  // kAsyncQueueBytesMin .. kAsyncQueueBytesMax.
  uint64_t async_queue_bytes_max = 64ull << 20;
  // Write the index checkpoint ("index.checkpoint") at close and load it at open instead of
  // scanning every frame it covers (docs/durability.md). False: always the full scan.
  bool index_checkpoint = true;
  // Also write it in the background once this many events arrived since the last one (or
  // as many as the last one covered, when that is more: the checkpoint grows with the store,
  // and so its rewrites cost at most ~120 bytes per appended event), so that an open after
  // a crash scans only what came after it. 0: only at close. kReadWrite only.
  uint64_t index_checkpoint_every_events = 1'000'000;
  // Write a footer ("<segment>.footer": that segment's index rows and checksum) for every
  // segment once it is sealed, and at open load a sealed segment's footer instead of
  // scanning its frames when the index checkpoint does not cover it (docs/durability.md).
  // False: neither written nor read.
  bool segment_footers = true;
  // Ed25519 seed. When set, every receipt is signed; the public key is Store::public_key().
  // A read-write open records that key in the store (the signing record, "signing.pub"; see
  // docs/format.md). From then on an open with another seed is refused (kInvalidArgument, in
  // every access mode), and a store opened without a seed refuses every append
  // (kInvalidArgument) but reads, and verifies receipts, as before.
  std::optional<std::array<uint8_t, 32>> signing_seed;
  // Seal every payload appended from now on under a key of its entity (XChaCha20-Poly1305),
  // so that Store::shred_entity can make an entity's payloads unreadable for good
  // (docs/encryption.md). A read-write open creates the keys file ("keys"); a store that has
  // one seals every new payload whatever this option says: encryption cannot be turned off.
  bool encrypt_payloads = false;
  // A secret that wraps every payload key in the keys file (XChaCha20 under a key derived
  // from it), so the data directory alone no longer reveals payloads (docs/encryption.md,
  // "Master key"). Setting it turns encrypt_payloads on. It is chosen when the keys file is
  // made (the first read-write open that encrypts) and needed by every open after that, in
  // every access mode, also of a backup: a missing or wrong one, or one given for a keys file
  // made without, is kInvalidArgument. The store never writes it anywhere.
  std::optional<MasterKey> master_key;
  std::shared_ptr<Fs> fs;        // Null means posix_fs().
  std::shared_ptr<Clock> clock;  // Null means system_clock().
  // Where projections keep state between runs. Null means make_no_cache().
  std::shared_ptr<ProjectionCache> projection_cache;
};

// A consistency check across streams: the append (or batch) fails with kConflict, writing
// nothing, if any event matching `region` was committed with a global sequence above
// `after_global_sequence`. Evaluated by the writer atomically with the commit: no event can
// slip in between the check and the append. Read the region, remember the highest
// sequence you saw, and append with that as `after_global_sequence`.
struct AppendCondition {
  Region region;
  uint64_t after_global_sequence = 0;
};

struct AppendOptions {
  // When set (1..256 bytes), the event id is derived from this key: an append whose key was
  // already committed writes nothing and returns the original receipt (idempotent_replay).
  std::optional<std::string> idempotency_key;
  // When set, the append commits only if the entity's current clock equals this value
  // (0 = the entity has no events yet); otherwise it fails with kConflict.
  std::optional<uint32_t> expected_clock;
  // When set, see AppendCondition. In a batch every item's condition must hold. The writer
  // first waits until every event committed so far is visible, so a conditional append
  // costs up to one group commit of latency more than a plain one.
  std::optional<AppendCondition> condition;
  EventId causation_id;    // Nil = no cause.
  EventId correlation_id;  // Nil = the event's own id.
  uint16_t flags = 0;
  uint16_t payload_version = 0;
};

// One event of an atomic batch. Each item may carry its own expected clock and key.
struct BatchItem {
  Coordinate coordinate;
  EventKind kind;
  std::vector<uint8_t> payload;
  AppendOptions options;
};

}  // namespace batpak
