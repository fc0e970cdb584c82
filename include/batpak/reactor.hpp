// Typed reactors: handlers that react to events of given payload types by appending new
// events, driven by a CursorWorker.
//
//   batpak::Reactor reactor;
//   reactor.on<OrderPlaced>([](const OrderPlaced& o, const batpak::Event& source,
//                              batpak::ReactionBatch& out) -> batpak::Status {
//     return out.push(batpak::Coordinate::make("invoice:" + o.id, "billing").value(),
//                     InvoiceRequested{o.id, o.total});
//   });
//   batpak::CursorWorkerConfig config;
//   config.checkpoint_id = "invoicer";
//   auto worker = reactor.start(store, batpak::Region::entity("order"), config);
//   ...
//   batpak::Status why = worker->join();
//
// For each batch of source events (in commit order):
// - an event whose kind has no handler is skipped;
// - an event whose payload does not decode as the handler's type stops the reactor with
//   kDecode (naming the event), and one with a payload version the type does not read
//   (batpak/codec.hpp) with kUnsupported; a handler's error stops it with that error; in all
//   cases
//   nothing of the batch is committed and the checkpoint does not move;
// - the reactions of the whole batch are appended as ONE atomic batch (Store::append_batch),
//   each with causation = its source event, correlation = the source's correlation id, and
//   an idempotency key derived from the source event id and the reaction's index (unless
//   the handler set one), and made durable (Store::sync_through: a sync in kBuffered and
//   kAsync mode); only then does the checkpoint advance;
// - a reaction whose key is already committed (Store::receipt_for_key) is left out of that
//   batch.
// So a crash between the reaction commit and the checkpoint redelivers the batch (with any
// sources that arrived since), and the keys leave out the reactions committed the first
// time: no reaction is ever appended twice, and none is lost.
//
// Thread safety: configure a Reactor (on()) before start(); start() may then be called any
// number of times (each worker copies the handlers). Handlers run on the worker's thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "batpak/codec.hpp"
#include "batpak/cursor_worker.hpp"
#include "batpak/store.hpp"
#include "batpak/typed.hpp"

namespace batpak {

// The events a handler wants appended in reaction to one source event.
class ReactionBatch {
 public:
  // Queues `value` for `coordinate`. options.causation_id and correlation_id are set from
  // the source event; an empty idempotency_key gets a derived one.
  template <TypedPayload T>
  Status push(const Coordinate& coordinate, const T& value, AppendOptions options = {}) {
    auto stamped = typed_append_options<T>(std::move(options));
    if (!stamped) return tl::unexpected(stamped.error());
    auto bytes = encode_typed_payload(value);
    if (!bytes) return tl::unexpected(bytes.error());
    push_raw(coordinate, EventKind(T::kKind), std::move(*bytes), std::move(*stamped));
    return {};
  }
  // Queues raw payload bytes of `kind`.
  void push_raw(const Coordinate& coordinate, EventKind kind, std::vector<uint8_t> payload, AppendOptions options = {}) {
    items_.push_back(BatchItem{coordinate, kind, std::move(payload), std::move(options)});
  }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

 private:
  friend class Reactor;
  std::vector<BatchItem> items_;
};

class Reactor {
 public:
  // Handles source events of T::kKind. `handler`: Status(const T&, const Event& source,
  // ReactionBatch&). A later on() for the same kind replaces the earlier one.
  template <TypedPayload T, class F>
  Reactor& on(F handler) {
    handlers_[EventKind(T::kKind).raw()] = [handler = std::move(handler)](const Event& source,
                                                                         ReactionBatch& out) -> Status {
      // A source whose payload was shredded (Store::shred_entity) has nothing left to react
      // to: it gets no reaction, and the cursor moves past it.
      if (source.payload_shredded) return {};
      auto value = decode_event<T>(source);
      if (!value) {
        return make_error(value.error().code, "reactor: event " + source.header.event_id.to_hex() +
                                                  " does not decode as its handler's type: " +
                                                  value.error().message);
      }
      return handler(*value, source, out);
    };
    return *this;
  }

  // Starts a CursorWorker over `region` that runs the handlers (see the header comment).
  std::unique_ptr<CursorWorker> start(Store& store, Region region, CursorWorkerConfig config) const;

  // Runs the handlers over one batch and appends its reactions atomically and durably. What
  // start()'s worker does per batch; public for callers that drive their own cursor.
  Status react(Store& store, std::span<const Event> batch) const;

 private:
  using Handler = std::function<Status(const Event& source, ReactionBatch& out)>;
  std::map<uint16_t, Handler> handlers_;
};

}  // namespace batpak
