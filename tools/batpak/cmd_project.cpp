// project: fold one entity with a built-in projection and print its state.
#include <string>

#include "cli.hpp"
#include "commands.hpp"
#include "folds.hpp"

namespace batpak::cli {
namespace {

struct ProjectArgs {
  std::string dir, entity, fold, cache = "none";
};

std::string_view cache_status_name(CacheStatus s) {
  switch (s) {
    case CacheStatus::kHit: return "hit";
    case CacheStatus::kMiss: return "miss";
    case CacheStatus::kBypassed: return "bypassed";
    case CacheStatus::kUnavailable: return "unavailable";
  }
  return "unknown";
}

std::string_view freshness_name(ObservedFreshness f) {
  switch (f) {
    case ObservedFreshness::kFresh: return "fresh";
    case ObservedFreshness::kStaleAllowed: return "stale_allowed";
    case ObservedFreshness::kNotApplicable: return "not_applicable";
  }
  return "unknown";
}

Result<std::shared_ptr<ProjectionCache>> cache_from(const std::string& spec) {
  if (spec == "none") return make_no_cache();
  if (spec == "memory") return make_memory_cache(64u << 20);
  if (spec.starts_with("file:") && spec.size() > 5) return make_file_cache(spec.substr(5));
  if (spec.starts_with("lmdb:") && spec.size() > 5) return make_lmdb_cache(spec.substr(5));
  return make_error(ErrorCode::kInvalidArgument, "--cache is none, memory, file:PATH or lmdb:PATH");
}

// Runs projection P and prints {"entity", "fold", "generation", "state", observation...}.
template <Projection P, class ToJson>
int print_projection(Store& store, const ProjectArgs& a, ToJson to_json) {
  auto projected = store.project<P>(a.entity);
  if (!projected) return report_error(projected.error());
  const ProjectionObservation& o = projected->observation;
  print_line({{"entity", a.entity},
              {"fold", a.fold},
              {"generation", projected->generation},
              {"state", projected->state ? to_json(*projected->state) : nlohmann::json(nullptr)},
              {"cache_status", cache_status_name(o.cache_status)},
              {"freshness", freshness_name(o.freshness)},
              {"input_frontier", o.input_frontier}});
  return kExitOk;
}

int run_project(const ProjectArgs& a) {
  if (auto valid = Coordinate::validate_component(a.entity, "entity"); !valid) return report_error(valid.error());
  const bool sum = a.fold.starts_with("sum:") && a.fold.size() > 4;
  if (a.fold != "count-by-kind" && a.fold != "last-payload" && !sum) {
    return usage_error("--fold is count-by-kind, last-payload or sum:FIELD");
  }
  auto cache = cache_from(a.cache);
  if (!cache) return report_error(cache.error());
  StoreOptions options;
  options.access = AccessMode::kReadOnly;
  options.projection_cache = *cache;
  auto store = Store::open(a.dir, options);
  if (!store) return report_error(store.error());
  if (a.fold == "count-by-kind") return print_projection<CountByKind>(**store, a, CountByKind::to_json);
  if (a.fold == "last-payload") return print_projection<LastPayload>(**store, a, LastPayload::to_json);
  const std::string field = a.fold.substr(4);
  return print_projection<SumFields>(**store, a, [&](const SumFields::State& s) { return SumFields::to_json(s, field); });
}

}  // namespace

void add_project_command(CLI::App& app, Runner& run) {
  static ProjectArgs args;
  auto* project = app.add_subcommand("project", "Fold one entity's events with a built-in projection");
  project->add_option("DIR", args.dir, "data directory")->required();
  project->add_option("--entity", args.entity, "exact entity")->required();
  project->add_option("--fold", args.fold, "count-by-kind | last-payload | sum:FIELD")->required();
  project->add_option("--cache", args.cache, "none | memory | file:PATH | lmdb:PATH");
  project->callback([&run] { run = [] { return run_project(args); }; });
}

}  // namespace batpak::cli
