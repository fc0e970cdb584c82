// init, append, import, shred.
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "commands.hpp"
#include "keys.hpp"
#include "requests.hpp"
#include "write_args.hpp"

namespace batpak::cli {
namespace {

struct AppendArgs : WriteArgs {
  bool from_stdin = false;
  std::string entity, scope, kind, payload, idempotency_key, causation, correlation;
  std::optional<uint32_t> expected_clock;
  std::optional<uint64_t> if_none_after;  // With if_region: an append condition.
  RegionArgs if_region;
};

Result<AppendRequest> request_from_flags(const AppendArgs& a) {
  auto payload = parse_json(a.payload, "--payload");
  if (!payload) return tl::unexpected(payload.error());
  nlohmann::json line = {{"entity", a.entity}, {"scope", a.scope}, {"kind", a.kind}, {"payload", *payload}};
  if (!a.idempotency_key.empty()) line["idempotency_key"] = a.idempotency_key;
  if (a.expected_clock) line["expected_clock"] = *a.expected_clock;
  if (!a.causation.empty()) line["causation"] = a.causation;
  if (!a.correlation.empty()) line["correlation"] = a.correlation;
  const RegionArgs& r = a.if_region;
  if (region_given(r) && !a.if_none_after) return make_error(ErrorCode::kInvalidArgument, "--if-* region flags need --if-none-after");
  if (a.if_none_after) {
    nlohmann::json condition = {{"after", *a.if_none_after}};
    if (!r.entity.empty()) condition["entity"] = r.entity;
    if (!r.scope.empty()) condition["scope"] = r.scope;
    if (!r.kind.empty()) condition["kind"] = r.kind;
    if (r.category) condition["category"] = *r.category;
    line["condition"] = condition;
  }
  return parse_append_line(line);
}

int run_init(const WriteArgs& w) {
  const bool existed = holds_store(w.dir);
  auto options = write_options(w, Durability::kSync);
  if (!options) return report_error(options.error());
  Opened opened = open_store(w.dir, *options);
  if (!opened.store) return opened.exit_code;
  const StoreStats stats = opened.store->stats();
  if (auto closed = opened.store->close(); !closed) return report_error(closed.error());
  print_line({{"dir", w.dir}, {"created", !existed}, {"events", stats.event_count},
              {"encrypts_payloads", stats.encrypts_payloads}});
  return kExitOk;
}

struct ShredArgs {
  std::string dir;
  std::string entity;
  bool whole_namespace = false;
};

int run_shred(const ShredArgs& a) {
  Opened opened = open_existing_store(a.dir);
  if (!opened.store) return opened.exit_code;
  nlohmann::json out = {{"entity", a.entity}};
  if (a.whole_namespace) {
    auto destroyed = opened.store->shred_namespace(a.entity);
    if (!destroyed) return report_error(destroyed.error());
    out["entities"] = destroyed->entities;
    out["keys_shredded"] = destroyed->keys_shredded;
  } else {
    auto destroyed = opened.store->shred_entity(a.entity);
    if (!destroyed) return report_error(destroyed.error());
    out["keys_shredded"] = *destroyed;
  }
  if (auto closed = opened.store->close(); !closed) return report_error(closed.error());
  print_line(out);
  return kExitOk;
}

// Syncs the store, then prints the receipts of the events appended since the last call.
Status print_when_durable(Store& store, std::vector<Receipt>& pending) {
  if (pending.empty()) return {};
  if (auto synced = store.sync(); !synced) return synced;
  for (const Receipt& r : pending) print_line(receipt_to_json(r));
  pending.clear();
  return {};
}

// Appends `items` in order with `append_one`, printing each receipt only once its event is
// durable. Events are written with kBuffered durability and synced about every
// kEventsPerSync events, so a long stream costs one fdatasync per chunk, not one per event.
// The store is also synced right before the last event: every frame on disk then records
// that the frames before it were durable, so recovery reports a damaged earlier frame as
// corruption instead of mistaking it for a torn write (docs/durability.md). The first
// refusal stops the stream: the receipts of the events committed before it are printed,
// then the error.
template <class Item, class AppendOne>
int append_durably(const WriteArgs& w, const std::vector<Item>& items, AppendOne append_one) {
  constexpr size_t kEventsPerSync = 1024;
  auto options = write_options(w, Durability::kBuffered);
  if (!options) return report_error(options.error());
  Opened opened = open_store(w.dir, *options);
  if (!opened.store) return opened.exit_code;
  Store& store = *opened.store;
  std::vector<Receipt> pending;
  for (size_t i = 0; i < items.size(); ++i) {
    if (pending.size() == kEventsPerSync || i + 1 == items.size()) {
      if (auto printed = print_when_durable(store, pending); !printed) return report_error(printed.error());
    }
    auto receipt = append_one(store, items[i]);
    if (!receipt) {
      if (auto printed = print_when_durable(store, pending); !printed) return report_error(printed.error());
      return report_error(receipt.error());
    }
    pending.push_back(std::move(*receipt));
  }
  if (auto printed = print_when_durable(store, pending); !printed) return report_error(printed.error());
  if (auto closed = store.close(); !closed) return report_error(closed.error());
  return kExitOk;
}

int run_append(const AppendArgs& a) {
  Result<std::vector<AppendRequest>> requests =
      a.from_stdin ? read_stdin_lines<AppendRequest>(parse_append_line)
                   : request_from_flags(a).map([](AppendRequest r) { return std::vector<AppendRequest>{std::move(r)}; });
  if (!requests) return report_error(requests.error());
  return append_durably(a, *requests, [](Store& store, const AppendRequest& r) {
    return store.append(r.coordinate, r.kind, r.payload, r.options);
  });
}

int run_import(const WriteArgs& a) {
  auto events = read_stdin_lines<Event>(parse_import_line);
  if (!events) return report_error(events.error());
  return append_durably(a, *events, [](Store& store, const Event& e) { return store.import_event(e); });
}

void add_seed_flag(CLI::App& command, WriteArgs& args) {
  command.add_option("--signing-seed-file", args.signing_seed_file,
                     "sign every receipt with the key of this seed file (see keygen); the store records its public key");
}

void add_write_flags(CLI::App& command, WriteArgs& args) {
  command.add_option("DIR", args.dir, "data directory")->required();
  command.add_option("--segment-bytes-max", args.segment_bytes_max,
                     "start a new segment file at this size (4096 .. 17179869184; default 64 MiB)")
      ->check(decimal_number());
  add_seed_flag(command, args);
}

}  // namespace

Result<StoreOptions> write_options(const WriteArgs& w, Durability durability) {
  StoreOptions options;
  options.durability = durability;
  if (w.segment_bytes_max) options.segment_bytes_max = *w.segment_bytes_max;
  options.encrypt_payloads = w.encrypt_payloads;
  if (!w.signing_seed_file.empty()) {
    auto seed = read_seed_file(w.signing_seed_file);
    if (!seed) return tl::unexpected(seed.error());
    options.signing_seed = *seed;
  }
  return options;
}

void add_write_commands(CLI::App& app, Runner& run) {
  static WriteArgs init_args;
  auto* init = app.add_subcommand("init", "Create a store in DIR (or open an existing one)");
  init->add_option("DIR", init_args.dir, "data directory")->required();
  add_seed_flag(*init, init_args);
  init->add_flag("--encrypt-payloads", init_args.encrypt_payloads,
                 "seal every payload under a key of its entity, so that `shred` can destroy it (cannot be undone)");
  init->callback([&run] { run = [] { return run_init(init_args); }; });

  static AppendArgs args;
  auto* append = app.add_subcommand("append", "Append events; print one receipt line each, once durable");
  add_write_flags(*append, args);
  append->add_flag("--stdin", args.from_stdin, "read JSON Lines events from stdin");
  append->add_option("--entity", args.entity, "entity");
  append->add_option("--scope", args.scope, "scope");
  append->add_option("--kind", args.kind, "kind, CAT:TYPE in hex (f:001) or a number");
  append->add_option("--payload", args.payload, "payload as JSON");
  append->add_option("--idempotency-key", args.idempotency_key, "idempotency key (1..256 bytes)");
  append->add_option("--expected-clock", args.expected_clock, "commit only if the entity is at this clock")
      ->check(decimal_number());
  append->add_option("--causation", args.causation, "causation event id (32 hex)");
  append->add_option("--correlation", args.correlation, "correlation id (32 hex)");
  append->add_option("--if-none-after", args.if_none_after,
                     "append condition: refuse (conflict) if an event of the --if-* region is after SEQ")
      ->check(decimal_number());
  append->add_option("--if-entity,--if-region", args.if_region.entity, "append condition region: entity prefix");
  append->add_option("--if-scope", args.if_region.scope, "append condition region: exact scope");
  append->add_option("--if-kind", args.if_region.kind, "append condition region: exact kind");
  append->add_option("--if-category", args.if_region.category, "append condition region: kind category 0..15")
      ->check(decimal_number());
  append->callback([&run] {
    run = [] {
      const bool has_flags = !args.entity.empty() || !args.scope.empty() || !args.kind.empty() || !args.payload.empty();
      if (args.from_stdin == has_flags) {
        return usage_error("give either --stdin or --entity, --scope, --kind and --payload");
      }
      return run_append(args);
    };
  });

  static ImportArgs import_args;
  auto* import = app.add_subcommand("import", "Import events exported by `batpak export` from stdin, or from another store");
  add_write_flags(*import, import_args);
  import->add_option("--from", import_args.from, "import from this store's directory (read-only; a snapshot with --snapshot)");
  import->add_option("--from-master-key-file", import_args.from_master_key_file, "with --from: the source's master key file");
  import->add_option("--after", import_args.after, "with --from: only events after this source global sequence")
      ->check(decimal_number());
  import->add_option("--after-event-id", import_args.after_event_id,
                     "with --after: the id the source's event at that sequence must have (a report's source_visible_event_id)");
  import->add_flag("--follow", import_args.follow,
                   "with --from: keep importing what the source appends (a snapshot of it per pass) until SIGINT/SIGTERM");
  import->add_option("--poll-ms", import_args.poll_ms, "with --follow: pause between passes (default 1000)")
      ->check(decimal_number());
  add_region_options(*import, import_args.region);
  import->callback([&run] {
    run = [] {
      if (!import_args.from.empty()) return run_import_from(import_args);
      const ImportArgs& a = import_args;
      if (region_given(a.region) || a.after || a.after_event_id || !a.from_master_key_file.empty() || a.follow || a.poll_ms) {
        return usage_error("--entity, --scope, --kind, --category, --after, --after-event-id, --from-master-key-file, --follow and --poll-ms need --from");
      }
      return run_import(import_args);
    };
  });

  static ShredArgs shred_args;
  auto* shred = app.add_subcommand("shred", "Destroy the keys of an entity's payloads (an encrypting store)");
  shred->add_option("DIR", shred_args.dir, "data directory")->required();
  shred->add_option("--entity", shred_args.entity, "the entity whose payloads become unreadable")->required();
  shred->add_flag("--namespace", shred_args.whole_namespace,
                  "shred every entity in the namespace --entity names (E and E:*), as query's --entity matches");
  shred->callback([&run] { run = [] { return run_shred(shred_args); }; });
}

}  // namespace batpak::cli
