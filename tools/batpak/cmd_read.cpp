// get, query, walk (and its chain walk evidence), stats, export: read-only commands.
#include <algorithm>
#include <optional>
#include <string>

#include "cli.hpp"
#include "commands.hpp"

namespace batpak::cli {
namespace {

struct QueryArgs {
  std::string dir;
  RegionArgs region;
  uint64_t after = 0;
  size_t limit = SIZE_MAX;
  bool count = false;  // Print {"count"} instead of the events.
};

struct EventArgs {  // get and walk.
  std::string dir, event_id;
  std::optional<std::string> key;  // get --key: the event committed with this idempotency key.
  size_t limit = 1000;
  bool evidence = false;                         // walk --evidence: a chain walk report instead.
  std::optional<std::string> end, expect_hash;  // walk --evidence only.
};

// The request of walk --evidence from its flags (its start is set later). kInvalidArgument
// for a malformed id or hash.
Result<ChainWalkRequest> walk_request(const EventArgs& a) {
  ChainWalkRequest request;
  request.limit = a.limit;
  if (a.end) {
    auto end = EventId::parse(*a.end);
    if (!end) return tl::unexpected(end.error());
    request.end = *end;
  }
  if (a.expect_hash) {
    auto hash = Hash32::parse(*a.expect_hash);
    if (!hash) return tl::unexpected(hash.error());
    request.expected_event_hash = *hash;
  }
  return request;
}

// Prints the report; exit 1 when it has a finding.
int print_chain_walk(const Store& store, const ChainWalkRequest& request) {
  const ChainWalkReport report = chain_walk_evidence(store, request);
  print_line(batpak::to_json(report));
  return report.ok() ? kExitOk : kExitFinding;
}

int print_events(const Result<std::vector<Event>>& events, nlohmann::json (*to_json)(const Event&)) {
  if (!events) return report_error(events.error());
  for (const Event& e : *events) print_line(to_json(e));
  return kExitOk;
}

int run_query(const QueryArgs& a) {
  auto region = region_from(a.region);
  if (!region) return report_error(region.error());
  Opened opened = open_store(a.dir, AccessMode::kReadOnly);
  if (!opened.store) return opened.exit_code;
  if (a.count) {
    auto count = opened.store->count_matching(*region, a.after);
    if (!count) return report_error(count.error());
    print_line({{"count", std::min<uint64_t>(*count, a.limit)}});
    return kExitOk;
  }
  return print_events(opened.store->query_after(*region, a.after, a.limit), event_to_json);
}

// The id of the event committed with idempotency key `key` (kNotFound when none was).
Result<EventId> committed_event_id(const Store& store, const std::string& key) {
  auto receipt = store.receipt_for_key(key);
  if (!receipt) return tl::unexpected(receipt.error());
  if (!*receipt) return make_error(ErrorCode::kNotFound, "no event was committed with idempotency key " + key);
  return (*receipt)->event_id;
}

int run_get_or_walk(const EventArgs& a, bool walk) {
  if (a.event_id.empty() == !a.key) return usage_error("give either EVENT_ID or --key");
  if ((a.end || a.expect_hash) && !a.evidence) return usage_error("--end and --expect-hash need --evidence");
  std::optional<EventId> id;
  if (!a.key) {
    auto parsed = EventId::parse(a.event_id);
    if (!parsed) return report_error(parsed.error());
    id = *parsed;
  }
  std::optional<ChainWalkRequest> evidence;
  if (a.evidence) {
    auto request = walk_request(a);
    if (!request) return report_error(request.error());
    evidence = *request;
  }
  Opened opened = open_store(a.dir, AccessMode::kReadOnly);
  if (!opened.store) return opened.exit_code;
  if (!id) {
    auto found = committed_event_id(*opened.store, *a.key);
    if (!found) return report_error(found.error());
    id = *found;
  }
  if (evidence) {
    evidence->start = *id;
    return print_chain_walk(*opened.store, *evidence);
  }
  if (walk) return print_events(opened.store->walk_ancestors(*id, a.limit), event_to_json);
  auto event = opened.store->get(*id);
  if (!event) return report_error(event.error());
  print_line(event_to_json(*event));
  return kExitOk;
}

nlohmann::json open_report_json(const OpenReport& r) {
  return {{"events_recovered", r.events_recovered}, {"segments", r.segments},
          {"torn_tail", r.torn_tail},               {"torn_tail_file", r.torn_tail_file},
          {"torn_tail_offset", r.torn_tail_offset}, {"torn_tail_bytes", r.torn_tail_bytes},
          {"index_source", r.index_source == IndexSource::kCheckpoint ? "checkpoint" : "full_scan"},
          {"index_source_reason", r.index_source_reason}, {"frames_scanned", r.frames_scanned},
          {"segments_from_footers", r.segments_from_footers},
          {"segment_footer_fallbacks", r.segment_footer_fallbacks}, {"damaged_keys", r.damaged_keys},
          {"keys_partial_tail_bytes", r.keys_partial_tail_bytes}, {"elapsed_us", r.elapsed_us}};
}

int run_stats(const std::string& dir) {
  Opened opened = open_store(dir, AccessMode::kReadOnly);
  if (!opened.store) return opened.exit_code;
  const StoreStats s = opened.store->stats();
  const std::optional<PublicKey> key = opened.store->public_key();  // From the signing record.
  print_line({{"event_count", s.event_count}, {"entity_count", s.entity_count},
              {"segment_count", s.segment_count}, {"first_global_sequence", s.first_global_sequence},
              {"last_global_sequence", s.last_global_sequence},
              {"data_bytes", s.data_bytes},
              {"encrypts_payloads", s.encrypts_payloads}, {"payload_keys", s.payload_keys},
              {"payload_keys_shredded", s.payload_keys_shredded}, {"payload_keys_wrapped", s.payload_keys_wrapped},
              {"public_key", key ? nlohmann::json(to_hex(*key)) : nlohmann::json(nullptr)},
              {"open", open_report_json(opened.store->open_report())}});
  return kExitOk;
}

nlohmann::json point_json(const HlcPoint& p) {
  return {{"wall_ms", p.wall_ms}, {"global_sequence", p.global_sequence}};
}

int run_frontier(const std::string& dir) {
  Opened opened = open_store(dir, AccessMode::kReadOnly);
  if (!opened.store) return opened.exit_code;
  const Frontier f = opened.store->frontier();
  nlohmann::json cancelled = nlohmann::json::array();
  for (const SequenceRange& r : opened.store->cancelled_ranges()) cancelled.push_back({r.start, r.end});
  print_line({{"accepted", point_json(f.accepted)},
              {"written", point_json(f.written)},
              {"durable", point_json(f.durable)},
              {"visible", point_json(f.visible)},
              {"applied", point_json(f.applied)},
              {"cancelled_ranges", cancelled},
              {"open_fence_cancelled", opened.store->open_report().open_fence_cancelled}});
  return kExitOk;
}

int run_export(const std::string& dir) {
  Opened opened = open_store(dir, AccessMode::kReadOnly);
  if (!opened.store) return opened.exit_code;
  constexpr size_t kPage = 4096;
  for (uint64_t after = 0;;) {
    auto page = opened.store->query_after(Region::all(), after, kPage);
    if (!page) return report_error(page.error());
    for (const Event& e : *page) print_line(event_to_export_json(e));
    if (page->size() < kPage) return kExitOk;
    after = page->back().header.global_sequence;
  }
}

}  // namespace

void add_read_commands(CLI::App& app, Runner& run) {
  static EventArgs get_args;
  auto* get = app.add_subcommand("get", "Print one event");
  get->add_option("DIR", get_args.dir, "data directory")->required();
  get->add_option("EVENT_ID", get_args.event_id, "event id (32 hex)");
  get->add_option("--key", get_args.key, "instead of EVENT_ID: the event committed with this idempotency key");
  get->callback([&run] { run = [] { return run_get_or_walk(get_args, false); }; });

  static QueryArgs q;
  auto* query = app.add_subcommand("query", "Print matching events in commit order (JSON Lines)");
  query->add_option("DIR", q.dir, "data directory")->required();
  add_region_options(*query, q.region);
  query->add_option("--after", q.after, "only events with global_sequence above this")->check(decimal_number());
  query->add_option("--limit", q.limit, "at most this many events")->check(decimal_number());
  query->add_flag("--count", q.count, "print {\"count\": N}, the number of events the query would print, from the index");
  query->callback([&run] { run = [] { return run_query(q); }; });

  static EventArgs walk_args;
  auto* walk = app.add_subcommand("walk", "Print an event and its hash-chain ancestors, anchor first");
  walk->add_option("DIR", walk_args.dir, "data directory")->required();
  walk->add_option("EVENT_ID", walk_args.event_id, "event id (32 hex)")->required();
  walk->add_option("--limit", walk_args.limit, "at most this many events (default 1000)")->check(decimal_number());
  walk->add_flag("--evidence", walk_args.evidence,
                 "print a chain walk report (every hash checked again) instead of the events; exit 1 on a finding");
  walk->add_option("--end", walk_args.end, "with --evidence: stop at this ancestor (event id)");
  walk->add_option("--expect-hash", walk_args.expect_hash, "with --evidence: the start's expected event_hash (64 hex)");
  walk->callback([&run] { run = [] { return run_get_or_walk(walk_args, true); }; });

  static std::string stats_dir;
  auto* stats = app.add_subcommand("stats", "Print store statistics and the open report");
  stats->add_option("DIR", stats_dir, "data directory")->required();
  stats->callback([&run] { run = [] { return run_stats(stats_dir); }; });

  static std::string frontier_dir;
  auto* frontier = app.add_subcommand("frontier", "Print the watermarks and the cancelled fence ranges");
  frontier->add_option("DIR", frontier_dir, "data directory")->required();
  frontier->callback([&run] { run = [] { return run_frontier(frontier_dir); }; });

  static std::string export_dir;
  auto* exp = app.add_subcommand("export", "Print every event in commit order, for import");
  exp->add_option("DIR", export_dir, "data directory")->required();
  exp->callback([&run] { run = [] { return run_export(export_dir); }; });
}

}  // namespace batpak::cli
