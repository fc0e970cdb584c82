// Store lifecycle and the write API.
#include "batpak/store.hpp"

#include <sodium.h>

#include <chrono>

#include "format/format.hpp"
#include "segment/manifest.hpp"
#include "store/signing_record.hpp"
#include "store/store_impl.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"
#include "util/random.hpp"
#include "util/wall_time.hpp"

namespace batpak {
namespace {

// A UUIDv7: 48-bit Unix milliseconds from the store's clock, then random bits.
EventId uuid_v7(int64_t now_us) {
  EventId id;
  util::random_bytes(id.bytes);
  const uint64_t ms = util::wall_ms_of(now_us);
  for (int i = 0; i < 6; ++i) id.bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(ms >> (40 - 8 * i));
  id.bytes[6] = static_cast<uint8_t>(0x70 | (id.bytes[6] & 0x0F));
  id.bytes[8] = static_cast<uint8_t>(0x80 | (id.bytes[8] & 0x3F));
  return id;
}

// Fills each event's content_hash from its stored bytes, hashing them side by side
// (util::blake3_each).
void hash_payloads(std::span<writer::Prepared> prepared) {
  if (prepared.size() == 1) {
    prepared[0].content_hash = util::blake3(prepared[0].stored_payload());
    return;
  }
  std::vector<std::span<const uint8_t>> payloads;
  payloads.reserve(prepared.size());
  for (const writer::Prepared& p : prepared) payloads.push_back(p.stored_payload());
  std::vector<Hash32> hashes(prepared.size());
  util::blake3_each(payloads, hashes);
  for (size_t i = 0; i < prepared.size(); ++i) prepared[i].content_hash = hashes[i];
}

}  // namespace

// BLAKE3 (derive-key mode) of the key, shaped as a UUIDv8 so it can never collide with a
// UUIDv7.
EventId event_id_for_key(std::string_view key) {
  const Hash32 digest = util::blake3_derive(
      format::kIdempotencyContext, {reinterpret_cast<const uint8_t*>(key.data()), key.size()});
  EventId id;
  std::copy_n(digest.bytes.begin(), id.bytes.size(), id.bytes.begin());
  id.bytes[6] = static_cast<uint8_t>(0x80 | (id.bytes[6] & 0x0F));
  id.bytes[8] = static_cast<uint8_t>(0x80 | (id.bytes[8] & 0x3F));
  return id;
}

Status check_idempotency_key(std::string_view key) {
  if (key.empty() || key.size() > kIdempotencyKeyBytesMax) {
    return make_error(ErrorCode::kInvalidArgument, "an idempotency key is 1..256 bytes");
  }
  return {};
}

Status Store::Impl::check_open() const {
  if (closed.load(std::memory_order_acquire)) return make_error(ErrorCode::kClosed, "the store is closed");
  return {};
}

Status Store::Impl::check_readable() const {
  if (auto s = check_open(); !s) return s;
  if (writer && options.durability == Durability::kBuffered) writer->wait_until_written(writer->sequenced());
  return {};
}

Status Store::Impl::check_writable() const {
  if (auto s = check_open(); !s) return s;
  if (!writer) return make_error(ErrorCode::kReadOnly, "the store was opened read-only");
  return {};
}

Status Store::Impl::check_append_input(EventKind kind, size_t payload_bytes, const AppendOptions& o,
                                       bool reserved_allowed) const {
  if (kind.is_reserved() && !reserved_allowed) {
    return make_error(ErrorCode::kReservedKind,
                      "kind " + kind.to_string() + " is in a reserved category (0 or d)");
  }
  if (payload_bytes > options.payload_bytes_max) {
    return make_error(ErrorCode::kTooLarge, "payload is " + std::to_string(payload_bytes) +
                                                " bytes; the limit is " +
                                                std::to_string(options.payload_bytes_max));
  }
  if (o.idempotency_key) return check_idempotency_key(*o.idempotency_key);
  return {};
}

writer::Prepared Store::Impl::prepare(const Coordinate& coordinate, EventKind kind,
                                      std::span<const uint8_t> payload, const AppendOptions& o) const {
  writer::Prepared p;
  p.coordinate = &coordinate;
  p.kind = kind;
  p.payload = payload;
  p.timestamp_us = clock->now_us();
  p.keyed = o.idempotency_key.has_value();
  p.event_id = p.keyed ? event_id_for_key(*o.idempotency_key) : uuid_v7(p.timestamp_us);
  p.correlation_id = o.correlation_id;
  p.causation_id = o.causation_id;
  p.expected_clock = o.expected_clock;
  p.condition = o.condition ? &*o.condition : nullptr;
  p.flags = o.flags;
  p.payload_version = o.payload_version;
  return p;
}

Status Store::Impl::seal_and_hash(std::span<writer::Prepared> events) const {
  if (keyset && writer) {
    std::vector<std::string_view> entities;
    entities.reserve(events.size());
    for (const writer::Prepared& p : events) entities.push_back(p.coordinate->entity());
    auto keys = keyset->keys_for_append(entities);  // New ones durable first, with one sync.
    if (!keys) return tl::unexpected(keys.error());
    for (size_t i = 0; i < events.size(); ++i) {
      writer::Prepared& p = events[i];
      auto& [key_id, key] = (*keys)[i];
      const crypto::SealContext context{p.event_id, p.kind, p.coordinate->entity(), p.coordinate->scope()};
      crypto::seal_payload(key, key_id, context, p.payload, p.sealed);
      sodium_memzero(key.data(), key.size());
      p.payload_encrypted = true;
    }
  }
  hash_payloads(events);
  return {};
}

Result<std::vector<Receipt>> Store::Impl::finish(writer::Committed committed) const {
  if (committed.replays_of.empty()) {
    if (signer) {
      for (Receipt& r : committed.receipts) r.signature = signer->sign(r.event_hash);
    }
    return std::move(committed.receipts);
  }
  std::vector<Receipt> out;
  out.reserve(committed.replays_of.size());
  for (uint64_t global_sequence : committed.replays_of) {
    auto receipt = receipt_for(global_sequence);
    if (!receipt) return tl::unexpected(receipt.error());
    receipt->idempotent_replay = true;
    out.push_back(std::move(*receipt));
  }
  return out;
}

Result<std::vector<Receipt>> Store::Impl::commit(std::span<const writer::Prepared> events) {
  if (signing_record && !signer) {
    return make_error(ErrorCode::kInvalidArgument,
                      std::string("this store signs every receipt (its ") + kSigningRecordFileName +
                          " records the public key): open it with its signing seed to append");
  }
  auto committed = writer->commit(events);
  if (!committed) return tl::unexpected(committed.error());
  nudge_background_work(*this);
  return finish(std::move(*committed));
}

namespace {

// Records where the data ends, for the next open to tell lost bytes from a torn write. Like
// the checkpoint, a manifest not written only makes that open check less; one that already
// says the same (nothing appended since it was written) is not written again.
// REQUIRES: the writer closed successfully, so everything it wrote is durable.
void record_clean_end(Store::Impl& s) {
  const auto [segment_id, end] = s.writer->durable_end();
  const segment::Manifest clean{segment_id, end};
  auto recorded = segment::read_manifest(*s.fs, s.dir);
  if (recorded && *recorded == clean) return;
  (void)segment::write_manifest(*s.fs, s.dir, clean);
}

}  // namespace

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Store::~Store() { (void)close(); }

Store::Impl::~Impl() { stop_background_work(*this); }

Result<std::unique_ptr<Store>> Store::open(const std::string& dir, StoreOptions options) {
  auto impl = open_store(dir, std::move(options));
  if (!impl) return tl::unexpected(impl.error());
  return std::unique_ptr<Store>(new Store(std::move(*impl)));
}

Status Store::close() {
  if (impl_->closed.exchange(true)) return {};
  Status result;
  if (impl_->writer) {
    stop_background_work(*impl_);
    result = impl_->writer->close();
    // A footer or checkpoint that cannot be written only makes the next open scan more: the
    // next open report says why. So their failure does not fail close.
    if (result) {  // The checkpoint first: the segments it covers need no footer.
      (void)write_index_checkpoint(*impl_);
      finish_background_work(*impl_);
      record_clean_end(*impl_);
    }
  }
  impl_->notifier->close();
  impl_->watermarks->close();
  impl_->hub->close();
  impl_->lock.reset();
  return result;
}

Result<Receipt> Store::Impl::append_one(const Coordinate& coordinate, EventKind kind, std::span<const uint8_t> payload,
                                        const AppendOptions& append_options, bool reserved_allowed, uint64_t fence) {
  if (auto s = check_writable(); !s) return tl::unexpected(s.error());
  if (auto s = check_append_input(kind, payload.size(), append_options, reserved_allowed); !s) {
    return tl::unexpected(s.error());
  }
  writer::Prepared prepared = prepare(coordinate, kind, payload, append_options);
  prepared.fence = fence;
  if (auto s = seal_and_hash({&prepared, 1}); !s) return tl::unexpected(s.error());
  auto receipts = commit({&prepared, 1});
  if (!receipts) return tl::unexpected(receipts.error());
  return std::move(receipts->front());
}

Result<Receipt> Store::append(const Coordinate& coordinate, EventKind kind,
                              std::span<const uint8_t> payload, const AppendOptions& options) {
  return impl_->append_one(coordinate, kind, payload, options, /*reserved_allowed=*/false);
}

Result<std::vector<Receipt>> Store::append_batch(std::span<const BatchItem> items) {
  return impl_->append_items(items);
}

Result<std::vector<Receipt>> Store::Impl::append_items(std::span<const BatchItem> items, uint64_t fence) {
  if (auto s = check_writable(); !s) return tl::unexpected(s.error());
  if (items.size() > options.batch_events_max) {
    return make_error(ErrorCode::kTooLarge, "batch has " + std::to_string(items.size()) +
                                                " events; the limit is " +
                                                std::to_string(options.batch_events_max));
  }
  uint64_t total_bytes = 0;
  std::vector<writer::Prepared> prepared;
  prepared.reserve(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    const BatchItem& item = items[i];
    if (auto s = check_append_input(item.kind, item.payload.size(), item.options); !s) {
      Error e = s.error();
      e.message = "batch item " + std::to_string(i) + ": " + e.message;
      return tl::unexpected(std::move(e));
    }
    total_bytes += item.payload.size();
    prepared.push_back(prepare(item.coordinate, item.kind, item.payload, item.options));
    prepared.back().fence = fence;
  }
  if (total_bytes > options.batch_bytes_max) {
    return make_error(ErrorCode::kTooLarge, "batch payloads total " + std::to_string(total_bytes) +
                                                " bytes; the limit is " +
                                                std::to_string(options.batch_bytes_max));
  }
  if (auto s = seal_and_hash(prepared); !s) return tl::unexpected(s.error());
  return commit(prepared);
}

Status Store::Impl::sync_writer() {
  Status synced = writer->sync();
  nudge_background_work(*this);
  return synced;
}

Status Store::sync() {
  if (auto s = impl_->check_writable(); !s) return s;
  return impl_->sync_writer();
}

Status Store::sync_through(uint64_t global_sequence) const {
  if (auto s = impl_->check_open(); !s) return s;
  if (!impl_->writer || impl_->writer->durable_sequence() >= global_sequence) return {};
  return impl_->sync_writer();
}

Result<uint64_t> Store::wait_for_visible(uint64_t after_global_sequence, uint32_t timeout_ms) const {
  if (auto s = impl_->check_open(); !s) return tl::unexpected(s.error());
  return impl_->notifier->wait_beyond(after_global_sequence, std::chrono::milliseconds(timeout_ms));
}

const OpenReport& Store::open_report() const { return impl_->report; }

std::optional<PublicKey> Store::public_key() const { return impl_->receipt_key(); }

}  // namespace batpak
