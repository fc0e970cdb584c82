// The read API: get, query, walk, stats, receipt checks.
#include <cassert>

#include "format/record.hpp"
#include "store/store_impl.hpp"
#include "util/coordinate_access.hpp"

namespace batpak {

Event event_from_record(const format::RecordView& r) {
  // The record was validated by decode_record, so the coordinate is valid.
  return Event{*Coordinate::make(r.entity, r.scope), r.header,
               std::vector<uint8_t>(r.payload.begin(), r.payload.end())};
}

Receipt receipt_from_event(const Event& e) {
  return format::receipt_of(e.header, e.coordinate.entity(), e.coordinate.scope());
}

namespace {

// One pread reads a run of frames that lie close together in one segment, up to this span
// (or one larger frame); reading a small gap of other events' frames costs less than a
// system call.
constexpr uint64_t kReadRunBytesMax = 1u << 20;
constexpr uint64_t kReadGapBytesMax = 16u << 10;
// Runs read with one Fs::read_batch (one io_uring submission on POSIX): scattered events
// cost one system call per batch, not one each.
constexpr size_t kBatchRunsMax = 256;
constexpr uint64_t kBatchBytesMax = 4u << 20;

// The bytes from `head`'s start to the end of `next`, if `next` may join head's run.
std::optional<uint64_t> run_span_with(const index::Entry& head, const index::Entry& last, const index::Entry& next) {
  if (next.segment_id != head.segment_id || next.offset < last.offset + last.frame_bytes) return std::nullopt;
  if (next.offset - (last.offset + last.frame_bytes) > kReadGapBytesMax) return std::nullopt;
  const uint64_t span = next.offset + next.frame_bytes - head.offset;
  if (span > kReadRunBytesMax) return std::nullopt;
  return span;
}

}  // namespace

Status Store::Impl::decode_into(const index::Located& row, std::span<const uint8_t> frame,
                                std::optional<Event>& slot) const {
  const index::Entry& e = row.entry;
  auto record_bytes = segment::frame_record(segments, e.segment_id, e.offset, frame);
  if (!record_bytes) return tl::unexpected(record_bytes.error());
  auto record = format::decode_record(*record_bytes);
  if (!record || record->header.event_id != e.event_id || record->header.global_sequence != row.global_sequence) {
    return tl::unexpected(Error{ErrorCode::kCorruption, "frame does not hold the indexed event",
                                segments.path(e.segment_id), e.offset, {}});
  }
  if (!slot) {
    slot.emplace(event_from_record(*record));
  } else {
    detail::CoordinateAccess::assign(slot->coordinate, record->entity, record->scope);
    slot->header = record->header;
    slot->payload.assign(record->payload.begin(), record->payload.end());
    slot->payload_shredded = false;
  }
  if (!record->header.payload_encrypted) return {};
  return unseal(record->payload, *slot, segments.path(e.segment_id), e.offset);
}

namespace {

// The run of frames close together in one segment that starts at rows[first]: it ends
// before the returned row index.
size_t run_end(const std::vector<index::Located>& rows, size_t first, segment::FrameRun& run) {
  const index::Entry& head = rows[first].entry;
  run = segment::FrameRun{head.segment_id, head.offset, head.frame_bytes};
  size_t end = first + 1;
  for (; end < rows.size(); ++end) {
    auto span = run_span_with(head, rows[end - 1].entry, rows[end].entry);
    if (!span) break;
    run.bytes = *span;
  }
  return end;
}

}  // namespace

Status Store::Impl::visit_events(const std::vector<index::Located>& rows,
                                 const std::function<Status(const Event&)>& visit) const {
  std::optional<Event> slot;  // Reused: its strings and payload keep their capacity.
  util::ReadBuffer frames;  // Reused for every batch: its runs back to back.
  std::vector<segment::FrameRun> runs;
  std::vector<size_t> run_ends;  // Row index after each run.
  for (size_t first = 0; first < rows.size();) {
    runs.clear();
    run_ends.clear();
    uint64_t batch_bytes = 0;
    for (size_t at = first; at < rows.size() && runs.size() < kBatchRunsMax;) {
      segment::FrameRun run;
      const size_t end = run_end(rows, at, run);
      if (!runs.empty() && batch_bytes + run.bytes > kBatchBytesMax) break;
      runs.push_back(run);
      run_ends.push_back(end);
      batch_bytes += run.bytes;
      at = end;
    }
    if (auto read = segment::read_runs(segments, *fs, runs, frames); !read) return read;
    uint64_t run_at = 0;  // Where the current run starts in `frames`.
    for (size_t k = 0; k < runs.size(); ++k) {
      for (size_t i = first; i < run_ends[k]; ++i) {
        const index::Entry& e = rows[i].entry;
        const auto frame = std::span<const uint8_t>(frames).subspan(run_at + (e.offset - runs[k].offset), e.frame_bytes);
        if (auto decoded = decode_into(rows[i], frame, slot); !decoded) return decoded;
        if (auto visited = visit(*slot); !visited) return visited;
      }
      run_at += runs[k].bytes;
      first = run_ends[k];
    }
  }
  return {};
}

Result<std::vector<Event>> Store::Impl::read_events(const std::vector<index::Located>& rows) const {
  std::vector<Event> out;
  out.reserve(rows.size());
  auto read = visit_events(rows, [&](const Event& e) -> Status {
    out.push_back(e);
    return {};
  });
  if (!read) return tl::unexpected(read.error());
  return out;
}

Result<std::vector<index::Located>> Store::Impl::rows_of(std::span<const uint64_t> global_sequences) const {
  auto rows = index.at_all(global_sequences);
  if (const uint64_t* missing = std::get_if<uint64_t>(&rows)) {
    return make_error(ErrorCode::kNotFound, "no event " + std::to_string(*missing));
  }
  return std::get<std::vector<index::Located>>(std::move(rows));
}

EventId Store::Impl::event_id_at(uint64_t global_sequence) const {
  const std::optional<index::Located> row = index.at(global_sequence);
  return row ? row->entry.event_id : EventId{};
}

// The horizon changes only while the store is closed (drop_history), so it needs no lock.
bool Store::Impl::holds_event_at(uint64_t global_sequence, const EventId& event_id) const {
  assert(!event_id.is_nil());
  return global_sequence < horizon.first_sequence || event_id_at(global_sequence) == event_id;
}

Result<std::vector<Event>> Store::Impl::read_events(std::span<const uint64_t> global_sequences) const {
  auto rows = rows_of(global_sequences);
  if (!rows) return tl::unexpected(rows.error());
  return read_events(*rows);
}

Result<Event> Store::Impl::read_event(uint64_t global_sequence) const {
  auto events = read_events(std::span<const uint64_t>(&global_sequence, 1));
  if (!events) return tl::unexpected(events.error());
  return std::move(events->front());
}

Result<Receipt> Store::Impl::receipt_for(uint64_t global_sequence) const {
  auto event = read_event(global_sequence);
  if (!event) return tl::unexpected(event.error());
  Receipt r = receipt_from_event(*event);
  if (signer) r.signature = signer->sign(r.event_hash);
  return r;
}

Result<Event> Store::get(const EventId& event_id) const {
  if (auto s = impl_->check_readable(); !s) return tl::unexpected(s.error());
  auto seq = impl_->index.find(event_id);
  if (!seq) return make_error(ErrorCode::kNotFound, "no event " + event_id.to_hex());
  return impl_->read_event(*seq);
}

Result<bool> Store::holds_event_at(uint64_t global_sequence, const EventId& event_id) const {
  if (auto s = impl_->check_readable(); !s) return tl::unexpected(s.error());
  return impl_->holds_event_at(global_sequence, event_id);
}

Result<std::optional<Receipt>> Store::receipt_for_key(std::string_view idempotency_key) const {
  if (auto s = check_idempotency_key(idempotency_key); !s) return tl::unexpected(s.error());
  if (auto s = impl_->check_readable(); !s) return tl::unexpected(s.error());
  auto seq = impl_->index.find(event_id_for_key(idempotency_key));
  if (!seq) return std::optional<Receipt>();
  auto receipt = impl_->receipt_for(*seq);
  if (!receipt) return tl::unexpected(receipt.error());
  receipt->idempotent_replay = true;
  return std::optional<Receipt>(std::move(*receipt));
}

Result<std::vector<Event>> Store::query(const Region& region) const {
  return query_after(region, 0, SIZE_MAX);
}

Result<std::vector<Event>> Store::query_after(const Region& region, uint64_t after_global_sequence,
                                              size_t limit) const {
  if (auto s = impl_->check_readable(); !s) return tl::unexpected(s.error());
  return impl_->read_events(impl_->index.select(region, after_global_sequence, limit));
}

Result<uint64_t> Store::count_matching(const Region& region, uint64_t after_global_sequence) const {
  if (auto s = impl_->check_readable(); !s) return tl::unexpected(s.error());
  return impl_->index.count(region, after_global_sequence);
}

Status Store::for_each_matching(const Region& region, uint64_t after_global_sequence,
                                const std::function<Status(const Event&)>& visit) const {
  if (auto s = impl_->check_readable(); !s) return s;
  // Index rows are selected a step at a time, so memory stays bounded for any store size.
  constexpr size_t kRowsPerStep = 4096;
  const uint64_t last = impl_->index.size();
  for (uint64_t after = after_global_sequence; after < last;) {
    std::vector<index::Located> rows = impl_->index.select(region, after, kRowsPerStep);
    while (!rows.empty() && rows.back().global_sequence > last) rows.pop_back();
    if (rows.empty()) return {};
    if (auto s = impl_->visit_events(rows, visit); !s) return s;
    after = rows.back().global_sequence;
  }
  return {};
}

Result<std::vector<Event>> Store::walk_ancestors(const EventId& event_id, size_t limit) const {
  if (auto s = impl_->check_readable(); !s) return tl::unexpected(s.error());
  auto seq = impl_->index.find(event_id);
  if (!seq) return make_error(ErrorCode::kNotFound, "no event " + event_id.to_hex());
  auto anchor = impl_->index.at(*seq);
  auto chain = impl_->index.chain_back(anchor->entity, anchor->entry.clock, limit);
  auto events = impl_->read_events(chain);
  if (!events) return events;
  // The chain is linked by hashes, not by the index: check each link as it is returned.
  for (size_t i = 0; i + 1 < events->size(); ++i) {
    if ((*events)[i].header.prev_hash != (*events)[i + 1].header.event_hash) {
      const index::Entry& e = chain[i].entry;
      return tl::unexpected(Error{ErrorCode::kCorruption, "hash chain link is broken",
                                  impl_->segments.path(e.segment_id), e.offset,
                                  std::string(anchor->entity)});
    }
  }
  return events;
}

Result<ReplayPlan> Store::replay_plan(std::string_view entity, std::span<const EventKind> relevant_kinds,
                                      uint64_t after_global_sequence) const {
  if (auto s = impl_->check_readable(); !s) return tl::unexpected(s.error());
  index::Index::EntityPlan plan = impl_->index.plan(entity, relevant_kinds, after_global_sequence);
  ReplayPlan out;
  out.watermark = plan.watermark;
  out.generation = plan.generation;
  out.head_hash = plan.head_hash;
  out.dropped_generation = plan.dropped_generation;
  out.global_sequences = std::move(plan.global_sequences);
  return out;
}

Result<Hash32> Store::entity_hash_at(std::string_view entity, uint64_t generation) const {
  if (auto s = impl_->check_readable(); !s) return tl::unexpected(s.error());
  // Generations only grow, so an entity found at or past `generation` keeps that event.
  if (generation == 0 || impl_->index.entity_generation(entity) < generation) {
    return make_error(ErrorCode::kNotFound, "entity '" + std::string(entity) + "' has no event number " +
                                                std::to_string(generation));
  }
  const index::EntityHead horizon = impl_->index.horizon_head(entity);
  if (generation == horizon.clock) return horizon.event_hash;
  if (generation < horizon.clock) {
    return make_error(ErrorCode::kNotFound, "event number " + std::to_string(generation) + " of entity '" +
                                                std::string(entity) + "' was dropped before the history horizon");
  }
  const std::vector<index::Located> rows = impl_->index.chain_back(entity, static_cast<uint32_t>(generation), 1);
  auto events = impl_->read_events(rows);
  if (!events) return tl::unexpected(events.error());
  return events->front().header.event_hash;
}

Result<std::vector<Event>> Store::read_sequences(std::span<const uint64_t> global_sequences) const {
  if (auto s = impl_->check_readable(); !s) return tl::unexpected(s.error());
  return impl_->read_events(global_sequences);
}

Status Store::for_each_event(std::span<const uint64_t> global_sequences,
                             const std::function<Status(const Event&)>& visit) const {
  if (auto s = impl_->check_readable(); !s) return s;
  auto rows = impl_->rows_of(global_sequences);
  if (!rows) return tl::unexpected(rows.error());
  return impl_->visit_events(*rows, visit);
}

ProjectionCache& Store::projection_cache() const { return *impl_->projection_cache; }

int64_t Store::now_us() const { return impl_->clock->now_us(); }

std::unique_ptr<Subscription> Store::subscribe(Region region, size_t capacity) const {
  return std::make_unique<Subscription>(impl_->hub->subscribe(std::move(region), capacity));
}

Result<int> Store::visibility_fd() const { return impl_->notifier->event_fd(); }

const std::string& Store::dir() const { return impl_->dir; }

const std::shared_ptr<Fs>& Store::fs() const { return impl_->fs; }

AccessMode Store::access_mode() const { return impl_->options.access; }

uint64_t Store::entity_generation(std::string_view entity) const {
  (void)impl_->check_readable();  // Closed: the generation as it was.
  return impl_->index.entity_generation(entity);
}

Result<std::vector<EntitySummary>> Store::list_entities(std::string_view prefix, std::string_view after,
                                                        size_t limit) const {
  if (auto s = impl_->check_readable(); !s) return tl::unexpected(s.error());
  if (!prefix.empty()) {
    if (auto valid = Coordinate::validate_component(prefix, "entity prefix"); !valid) return tl::unexpected(valid.error());
  }
  return impl_->index.list_entities(prefix, after, limit);
}

StoreStats Store::stats() const {
  (void)impl_->check_readable();  // Closed: the figures as they were.
  StoreStats st;
  st.last_global_sequence = impl_->index.size();
  st.event_count = impl_->index.visible_count();
  st.first_global_sequence = impl_->horizon.first_sequence;
  st.entity_count = impl_->index.entity_count();
  st.durable_global_sequence = impl_->writer ? impl_->writer->durable_sequence() : st.last_global_sequence;
  for (const auto& seg : impl_->segments.snapshot()) {
    ++st.segment_count;
    st.data_bytes += seg.visible_end;
  }
  st.index_checkpoints_written = impl_->background.checkpoints_written.load(std::memory_order_relaxed);
  st.segment_footers_written = impl_->background.footers_written.load(std::memory_order_relaxed);
  if (impl_->keyset) {
    st.encrypts_payloads = true;
    st.payload_keys = impl_->keyset->key_count();
    st.payload_keys_shredded = impl_->keyset->shredded_count();
    st.payload_keys_wrapped = impl_->keyset->wraps_keys();
  }
  return st;
}

namespace {

Status invalid_receipt(const std::string& why) { return make_error(ErrorCode::kInvalidSignature, why); }

// The first receipt field that differs from the stored event's, or nullptr.
const char* first_differing_field(const Receipt& receipt, const Receipt& stored) {
  if (receipt.global_sequence != stored.global_sequence) return "global_sequence differs";
  if (receipt.entity != stored.entity) return "entity differs";
  if (receipt.scope != stored.scope) return "scope differs";
  if (receipt.kind != stored.kind) return "kind differs";
  if (receipt.clock != stored.clock) return "clock differs";
  if (receipt.wall_ms != stored.wall_ms) return "wall_ms differs";
  if (receipt.correlation_id != stored.correlation_id) return "correlation_id differs";
  if (receipt.causation_id != stored.causation_id) return "causation_id differs";
  if (receipt.payload_version != stored.payload_version) return "payload_version differs";
  if (receipt.payload_encrypted != stored.payload_encrypted) return "payload_encrypted differs";
  if (receipt.content_hash != stored.content_hash) return "content_hash differs";
  if (receipt.prev_hash != stored.prev_hash) return "prev_hash differs";
  if (receipt.event_hash != stored.event_hash) return "event_hash differs";
  return nullptr;
}

}  // namespace

Status Store::Impl::check_receipt_fields(const Receipt& receipt) const {
  auto seq = index.find(receipt.event_id);
  if (!seq && receipt.global_sequence < index.first_sequence()) {
    return make_error(ErrorCode::kNotFound,
                      "the receipt's global sequence " + std::to_string(receipt.global_sequence) +
                          " is below the history horizon " + std::to_string(index.first_sequence()) +
                          ": its event was dropped (verify_receipt_signature still checks a signed receipt)");
  }
  if (!seq) return invalid_receipt("no committed event has this receipt's event id");
  auto event = read_event(*seq);
  if (!event) return tl::unexpected(event.error());
  if (const char* why = first_differing_field(receipt, receipt_from_event(*event))) return invalid_receipt(why);
  return {};
}

Status Store::verify_receipt(const Receipt& receipt) const {
  if (auto s = impl_->check_readable(); !s) return s;
  if (auto s = impl_->check_receipt_fields(receipt); !s) return s;
  if (const auto key = impl_->receipt_key()) return verify_receipt_signature(receipt, *key);
  if (receipt.signature) return invalid_receipt("receipt is signed but this store has no signing key");
  return {};
}

Status Store::verify_receipt(const Receipt& receipt, const PublicKey& public_key) const {
  if (auto s = impl_->check_readable(); !s) return s;
  if (auto s = impl_->check_receipt_fields(receipt); !s) return s;
  return verify_receipt_signature(receipt, public_key);
}

}  // namespace batpak
