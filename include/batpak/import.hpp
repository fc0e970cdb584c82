// Copying events from one store into another (Store::import_from).
// Thread safety: plain values. ImportOptions::filter is called on the importing thread only.
#pragma once

#include <cstdint>
#include <functional>

#include "batpak/event.hpp"
#include "batpak/types.hpp"

namespace batpak {

// Which events of the source Store::import_from copies: those of `region` committed after
// `after_global_sequence`, in the source's commit order.
struct ImportSelection {
  Region region = Region::all();
  uint64_t after_global_sequence = 0;
  // When not nil: the id the source's event at after_global_sequence must have, as the last
  // call's ImportReport::source_visible_event_id gave it. A source whose event there differs
  // or is gone is kConflict: it lost events after they were copied (an unsynced tail a power
  // cut took, then refilled by new appends), or the directory holds another store; resuming
  // without the check would silently skip the source's events up to after_global_sequence.
  // An event the source dropped since with its history is not a loss (Store::holds_event_at).
  EventId after_event_id;
};

struct ImportOptions {
  // How many events are committed per atomic batch (fewer when their payloads would pass the
  // destination's StoreOptions::batch_bytes_max; a single larger event goes alone). Within 1 ..
  // the destination's batch_events_max. The source is read one event at a time, so memory
  // holds one batch, whatever the size of the selection.
  uint32_t chunk_events = 256;
  // When set, an event is imported only if it returns true. Called once per selected event
  // whose payload was not shredded, in commit order.
  std::function<bool(const Event&)> filter;
};

// What one Store::import_from call did. Every selected event up to source_visible_sequence is
// counted in exactly one of the first four fields.
struct ImportReport {
  uint64_t imported = 0;          // Committed to this store by this call.
  uint64_t already_present = 0;   // Its event id was committed here before: not copied again.
  uint64_t skipped_shredded = 0;  // Its payload was shredded in the source: nothing to copy.
  uint64_t skipped_filtered = 0;  // ImportOptions::filter returned false.
  // The source's visible watermark when the call began: the call read the source up to it and
  // no further. Pass it as ImportSelection::after_global_sequence to import what came later.
  uint64_t source_visible_sequence = 0;
  // The id of the source's event at source_visible_sequence: pass it on as
  // ImportSelection::after_event_id with that sequence. Nil when the source is empty or that
  // event is hidden (a cancelled fence) or dropped with the history: no check is then made.
  EventId source_visible_event_id;
};

}  // namespace batpak
