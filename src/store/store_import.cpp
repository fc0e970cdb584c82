// Importing events: one exported event (Store::import_event), or the events of another store
// (Store::import_from).
#include <vector>

#include "batpak/denial.hpp"
#include "store/store_impl.hpp"

namespace batpak {

Result<writer::Prepared> Store::Impl::prepare_import(const Event& event) const {
  if (auto s = check_append_input(event.header.kind, event.payload.size(), {}, /*reserved_allowed=*/true); !s) {
    return tl::unexpected(s.error());
  }
  if (auto s = check_importable_kind(event); !s) return tl::unexpected(s.error());  // After the size limit.
  if (event.header.event_id.is_nil()) return make_error(ErrorCode::kInvalidArgument, "imported event has a nil id");
  if (event.payload_shredded) {
    return make_error(ErrorCode::kInvalidArgument, "imported event's payload was shredded: there is nothing to import");
  }
  AppendOptions kept;
  kept.correlation_id = event.header.correlation_id;
  kept.causation_id = event.header.causation_id;
  kept.flags = event.header.flags;
  kept.payload_version = event.header.payload_version;
  writer::Prepared p = prepare(event.coordinate, event.header.kind, event.payload, kept);
  p.event_id = event.header.event_id;
  p.keyed = true;
  p.timestamp_us = event.header.timestamp_us;
  p.wall_ms = event.header.wall_ms;
  return p;
}

Result<Receipt> Store::import_event(const Event& event) {
  if (auto s = impl_->check_writable(); !s) return tl::unexpected(s.error());
  auto prepared = impl_->prepare_import(event);
  if (!prepared) return tl::unexpected(prepared.error());
  if (auto s = impl_->seal_and_hash({&*prepared, 1}); !s) return tl::unexpected(s.error());
  auto receipts = impl_->commit({&*prepared, 1});
  if (!receipts) return tl::unexpected(receipts.error());
  return std::move(receipts->front());
}

namespace {

// Counts what a commit of imported events did: replays were already here.
void count_receipts(const std::vector<Receipt>& receipts, ImportReport& report) {
  for (const Receipt& r : receipts) ++(r.idempotent_replay ? report.already_present : report.imported);
}

// Commits `events` as one atomic batch. A batch part of which another import committed
// meanwhile is refused by the writer (kConflict, nothing written); its events then go one at
// a time, each committed or replayed.
Status commit_imports(Store& store, Store::Impl& impl, std::span<const Event> events, ImportReport& report) {
  std::vector<writer::Prepared> prepared;
  prepared.reserve(events.size());
  for (const Event& e : events) {
    auto p = impl.prepare_import(e);
    if (!p) return tl::unexpected(p.error());
    prepared.push_back(std::move(*p));
  }
  if (auto s = impl.seal_and_hash(prepared); !s) return s;
  auto receipts = impl.commit(prepared);
  if (receipts) {
    count_receipts(*receipts, report);
    return {};
  }
  if (receipts.error().code != ErrorCode::kConflict) return tl::unexpected(receipts.error());
  for (const Event& e : events) {
    auto receipt = store.import_event(e);
    if (!receipt) return tl::unexpected(receipt.error());
    count_receipts({*receipt}, report);
  }
  return {};
}

// A source never takes back a visible event, so a start past its end, or a start event
// that changed, means the source lost events after they were read (an unsynced tail a power
// cut took) or is another store. REQUIRES: report.source_visible_sequence is set.
Status check_resumes_where_it_stopped(const ImportSelection& selection, const ImportReport& report,
                                      const Store::Impl& source) {
  const uint64_t after = selection.after_global_sequence;
  std::string why;
  if (after > report.source_visible_sequence) {
    why = "is past the source's visible end " + std::to_string(report.source_visible_sequence);
  } else if (!selection.after_event_id.is_nil() && !source.holds_event_at(after, selection.after_event_id)) {
    why = "no longer holds event " + selection.after_event_id.to_hex();
  }
  if (why.empty()) return {};
  return make_error(ErrorCode::kConflict, "the selection resumes after global sequence " + std::to_string(after) +
                                              ", which " + why + ": the source lost events or is another store");
}

// The events of one import waiting for their batch: at most `events_max`, and no more
// payload bytes than `bytes_max` unless a single event alone has more.
struct PendingBatch {
  std::vector<Event> events;
  uint64_t bytes = 0;

  bool full_for(const Event& next, uint32_t events_max, uint64_t bytes_max) const {
    return !events.empty() && (events.size() == events_max || bytes + next.payload.size() > bytes_max);
  }
  Status flush(Store& store, Store::Impl& impl, ImportReport& report) {
    if (events.empty()) return {};
    Status committed = commit_imports(store, impl, events, report);
    events.clear();
    bytes = 0;
    return committed;
  }
};

}  // namespace

Result<ImportReport> Store::import_from(const Store& source, const ImportSelection& selection,
                                        const ImportOptions& options) {
  if (&source == this) return make_error(ErrorCode::kInvalidArgument, "a store cannot import from itself");
  if (auto s = impl_->check_writable(); !s) return tl::unexpected(s.error());
  if (options.chunk_events == 0 || options.chunk_events > impl_->options.batch_events_max) {
    return make_error(ErrorCode::kInvalidArgument, "chunk_events is 1 .. batch_events_max (" +
                                                       std::to_string(impl_->options.batch_events_max) + ")");
  }
  ImportReport report;
  report.source_visible_sequence = source.frontier().visible.global_sequence;
  report.source_visible_event_id = source.impl_->event_id_at(report.source_visible_sequence);
  if (auto s = check_resumes_where_it_stopped(selection, report, *source.impl_); !s) return tl::unexpected(s.error());
  PendingBatch batch;
  // One event at a time in the source's sequential reads: memory holds one batch, whatever the
  // size of the selection.
  Status read = source.for_each_matching(selection.region, selection.after_global_sequence, [&](const Event& e) -> Status {
    if (e.header.global_sequence > report.source_visible_sequence) return {};  // For the next call.
    if (e.payload_shredded) {
      ++report.skipped_shredded;
    } else if (options.filter && !options.filter(e)) {
      ++report.skipped_filtered;
    } else if (impl_->index.find(e.header.event_id)) {
      ++report.already_present;
    } else {
      if (batch.full_for(e, options.chunk_events, impl_->options.batch_bytes_max)) {
        if (auto s = batch.flush(*this, *impl_, report); !s) return s;
      }
      batch.events.push_back(e);
      batch.bytes += e.payload.size();
    }
    return {};
  });
  if (!read) return tl::unexpected(read.error());
  if (auto s = batch.flush(*this, *impl_, report); !s) return tl::unexpected(s.error());
  return report;
}

}  // namespace batpak
