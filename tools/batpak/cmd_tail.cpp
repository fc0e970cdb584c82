// tail: print the events of a region in commit order, optionally following new ones and
// resuming from a durable cursor checkpoint.
#include <thread>

#include "cli.hpp"
#include "commands.hpp"

namespace batpak::cli {
namespace {

struct TailArgs {
  std::string dir, checkpoint;
  RegionArgs region;
  std::optional<uint64_t> from;
  std::optional<std::string> from_event_id;
  bool follow = false;
  uint64_t limit = UINT64_MAX;
  uint32_t poll_ms = 200;
};

constexpr size_t kPage = 4096;

// Where the next pass starts: after the last event printed (or --from). Its id (nil when
// nothing was printed yet, unless --from-event-id gave it) lets the next pass check that the
// store still holds that event there.
struct Position {
  uint64_t global_sequence = 0;
  EventId event_id;
};

// kConflict when the store no longer holds the event `at` names at its global sequence
// (Store::holds_event_at): a read-only or snapshot open can print events whose sync had not
// returned, and after a power cut the writer's next appends take their sequences. Going on
// would leave printed events the store does not have and skip those that replaced them.
Status check_still_holds(const Store& store, const Position& at) {
  if (at.event_id.is_nil()) return {};
  auto holds = store.holds_event_at(at.global_sequence, at.event_id);
  if (!holds) return tl::unexpected(holds.error());
  if (*holds) return {};
  return make_error(ErrorCode::kConflict, "the store no longer holds event " + at.event_id.to_hex() +
                                              " at global sequence " + std::to_string(at.global_sequence) +
                                              ", which tail printed: it lost events that were not yet durable, "
                                              "or the directory now holds another store");
}

// Prints the matching events after the cursor's position, one page at a time, committing
// each page once it is flushed (at-least-once output); `last` names the last one printed.
// Returns the events printed.
Result<uint64_t> print_available(Cursor& cursor, uint64_t budget, Position& last) {
  uint64_t printed = 0;
  while (printed < budget && !stop_requested()) {
    auto page = cursor.poll_batch(static_cast<size_t>(std::min<uint64_t>(kPage, budget - printed)));
    if (!page) return tl::unexpected(page.error());
    if (page->empty()) break;
    for (const Event& e : *page) print_line(event_to_json(e));  // print_line flushes.
    if (auto committed = cursor.commit(); !committed) return tl::unexpected(committed.error());
    last = {page->back().header.global_sequence, page->back().header.event_id};
    printed += page->size();
  }
  return printed;
}

// One pass: open the store, print what is new, close it (so writers can take the lock).
// Returns the events printed; kStoreLocked when another process holds the store.
Result<uint64_t> tail_once(const TailArgs& a, const Region& region, Position& position, uint64_t budget) {
  StoreOptions options;
  options.access = a.checkpoint.empty() ? read_only_access() : AccessMode::kReadWrite;
  apply_master_key(options);
  auto store = Store::open(a.dir, options);
  if (!store) return tl::unexpected(store.error());
  if (auto holds = check_still_holds(**store, position); !holds) return tl::unexpected(holds.error());
  auto cursor = a.checkpoint.empty() ? Result<Cursor>(Cursor(**store, region, position.global_sequence))
                                     : Cursor::resume(**store, region, a.checkpoint);
  if (!cursor) return tl::unexpected(cursor.error());
  auto printed = print_available(*cursor, budget, position);
  if (auto closed = (*store)->close(); !closed) return tl::unexpected(closed.error());
  return printed;
}

int run_tail(const TailArgs& a) {
  if (a.from && !a.checkpoint.empty()) return usage_error("give --from or --checkpoint, not both");
  if (a.from_event_id && !a.from) return usage_error("--from-event-id needs --from");
  auto from_event_id = a.from_event_id ? EventId::parse(*a.from_event_id) : Result<EventId>(EventId{});
  if (!from_event_id) return report_error(from_event_id.error());
  if (!a.checkpoint.empty()) {
    if (auto valid = Cursor::validate_checkpoint_id(a.checkpoint); !valid) return report_error(valid.error());
  }
  auto region = region_from(a.region);
  if (!region) return report_error(region.error());
  // A checkpoint needs a read-write open, which would create a missing store.
  if (!a.checkpoint.empty() && !holds_store(a.dir)) {
    return report_error(Error{ErrorCode::kNotFound, "no store at " + a.dir, {}, 0, {}});
  }
  stop_on_signals();
  Position position{a.from.value_or(0), *from_event_id};
  uint64_t printed = 0;
  while (!stop_requested() && printed < a.limit) {
    auto pass = tail_once(a, *region, position, a.limit - printed);
    // While following, a store held by its writer is waited for, not an error.
    if (!pass && !(a.follow && pass.error().code == ErrorCode::kStoreLocked)) return report_error(pass.error());
    if (pass) printed += *pass;
    if (!a.follow) break;
    if (printed < a.limit && !stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(a.poll_ms));
  }
  return kExitOk;
}

}  // namespace

void add_tail_command(CLI::App& app, Runner& run) {
  static TailArgs args;
  auto* tail = app.add_subcommand("tail", "Print a region's events in commit order (JSON Lines), optionally following");
  tail->add_option("DIR", args.dir, "data directory")->required();
  add_region_options(*tail, args.region);
  tail->add_option("--from", args.from, "start after this global sequence (default 0)")->check(decimal_number());
  tail->add_option("--from-event-id", args.from_event_id,
                   "with --from: the id of the event at that sequence, as printed before; conflict if the store no longer holds it there");
  tail->add_flag("--follow", args.follow, "keep polling for new events until SIGINT/SIGTERM");
  tail->add_option("--checkpoint", args.checkpoint, "durable cursor id: resume after the last printed event");
  tail->add_option("--limit", args.limit, "stop after printing this many events")->check(decimal_number());
  tail->add_option("--poll-ms", args.poll_ms, "with --follow: pause between polls (default 200)")
      ->check(decimal_number());
  tail->callback([&run] { run = [] { return run_tail(args); }; });
}

}  // namespace batpak::cli
