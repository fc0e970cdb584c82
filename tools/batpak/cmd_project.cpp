// project: fold one entity with built-in projections and print their states (several
// --fold: fused, one read of the events for all of them).
#include <algorithm>
#include <array>
#include <set>
#include <string>
#include <type_traits>

#include "cli.hpp"
#include "commands.hpp"
#include "folds.hpp"

namespace batpak::cli {
namespace {

struct ProjectArgs {
  std::string dir, entity, cache = "none";
  std::vector<std::string> folds;  // Every --fold, in order (at least one: CLI11 requires it).
  bool evidence = false;
};

// The built-in projection a fold runs, as a bit, so that a set of folds names the projections
// to fuse; 0 for an unknown fold.
constexpr unsigned kCountBit = 1, kLastBit = 2, kSumBit = 4;

unsigned fold_bit(const std::string& fold) {
  if (fold == "count-by-kind") return kCountBit;
  if (fold == "last-payload") return kLastBit;
  return fold.starts_with("sum:") && fold.size() > 4 ? kSumBit : 0;
}

Result<std::shared_ptr<ProjectionCache>> cache_from(const std::string& spec) {
  if (spec == "none") return make_no_cache();
  if (spec == "memory") return make_memory_cache(64u << 20);
  if (spec.starts_with("file:") && spec.size() > 5) return make_file_cache(spec.substr(5));
  if (spec.starts_with("lmdb:") && spec.size() > 5) return make_lmdb_cache(spec.substr(5));
  return make_error(ErrorCode::kInvalidArgument, "--cache is none, memory, file:PATH or lmdb:PATH");
}

// Runs projection P and prints {"entity", "fold", "generation", "state", observation...,
// "folded_from_horizon"},
// plus the run's evidence report as "evidence" with --evidence. A failed run prints its
// error (and, with --evidence, first the report that records the failure).
template <Projection P, class ToJson>
int print_projection(Store& store, const ProjectArgs& a, ToJson to_json) {
  auto run = project_run_evidence<P>(store, a.entity);
  if (!run.ok()) {
    if (a.evidence) print_line({{"entity", a.entity}, {"fold", a.folds.front()}, {"evidence", batpak::to_json(run.report)}});
    return report_error(*run.error);
  }
  // The summary fields use the report's own names, so the two never disagree.
  nlohmann::json evidence = batpak::to_json(run.report);
  const auto& frontier = run.report.input_frontier;
  const auto& findings = run.report.findings;
  const bool folded_from_horizon = std::any_of(findings.begin(), findings.end(), [](const RunFinding& f) {
    return f.type == RunFinding::Type::kFoldedFromHorizon;
  });
  nlohmann::json line = {{"entity", a.entity},
                         {"fold", a.folds.front()},
                         {"generation", run.generation},
                         {"state", run.state ? to_json(*run.state) : nlohmann::json(nullptr)},
                         {"cache_status", evidence["cache_status"]["status"]},
                         {"freshness", evidence["body"]["observed_freshness"]["status"]},
                         {"input_frontier", frontier ? frontier->global_sequence : 0},
                         {"folded_from_horizon", folded_from_horizon}};
  if (a.evidence) line["evidence"] = std::move(evidence);
  print_line(line);
  return kExitOk;
}

// Calls visit(std::type_identity<P>{}, to_json) with the built-in projection P that `fold`
// runs and the function that prints its state as that fold. REQUIRES: fold_bit(fold) != 0.
template <class Visit>
auto with_fold(const std::string& fold, Visit visit) {
  if (fold == "count-by-kind") return visit(std::type_identity<CountByKind>{}, CountByKind::to_json);
  if (fold == "last-payload") return visit(std::type_identity<LastPayload>{}, LastPayload::to_json);
  return visit(std::type_identity<SumFields>{},
               [field = fold.substr(4)](const SumFields::State& s) { return SumFields::to_json(s, field); });
}

// Runs one fold: project<P>, with the cache and, on request, the evidence.
int print_single(Store& store, const ProjectArgs& a) {
  return with_fold(a.folds.front(), [&]<class P>(std::type_identity<P>, auto to_json) { return print_projection<P>(store, a, to_json); });
}

// The position of T in P... REQUIRES: T is one of them.
template <class T, class... P>
constexpr size_t index_of() {
  constexpr std::array<bool, sizeof...(P)> same{std::is_same_v<T, P>...};
  return static_cast<size_t>(std::find(same.begin(), same.end(), true) - same.begin());
}

// `fold`'s state as JSON (null without one) and its input frontier, from a fused run of P...
// that includes the projection the fold runs.
template <class... P>
std::pair<nlohmann::json, uint64_t> fused_view(const FusedProjected<typename P::State...>& run, const std::string& fold) {
  return with_fold(fold, [&run]<class T>(std::type_identity<T>, auto to_json) -> std::pair<nlohmann::json, uint64_t> {
    if constexpr ((std::is_same_v<T, P> || ...)) {
      constexpr size_t i = index_of<T, P...>();
      const auto& state = std::get<i>(run.states);
      return {state ? to_json(*state) : nlohmann::json(nullptr), run.input_frontiers[i]};
    }
    return {};
  });
}

// Folds every --fold from one read of the entity's events (Store::project_fused; no cache)
// and prints a line per fold, in the order given, with project's fields.
template <class... P>
int print_fused(Store& store, const ProjectArgs& a) {
  auto run = store.project_fused<P...>(a.entity);
  if (!run) return report_error(run.error());
  for (const std::string& fold : a.folds) {
    auto [state, frontier] = fused_view<P...>(*run, fold);
    const char* freshness = state.is_null() ? "not_applicable" : "fresh";
    print_line({{"entity", a.entity},
                {"fold", fold},
                {"generation", run->generation},
                {"state", std::move(state)},
                {"cache_status", "bypassed"},
                {"freshness", freshness},
                {"input_frontier", frontier},
                {"folded_from_horizon", run->folded_from_horizon}});
  }
  return kExitOk;
}

// The projections named by `bits` (a non-empty set of the fold bits), fused.
int print_fused_bits(Store& store, const ProjectArgs& a, unsigned bits) {
  switch (bits) {
    case kCountBit: return print_fused<CountByKind>(store, a);
    case kLastBit: return print_fused<LastPayload>(store, a);
    case kSumBit: return print_fused<SumFields>(store, a);
    case kCountBit | kLastBit: return print_fused<CountByKind, LastPayload>(store, a);
    case kCountBit | kSumBit: return print_fused<CountByKind, SumFields>(store, a);
    case kLastBit | kSumBit: return print_fused<LastPayload, SumFields>(store, a);
    default: return print_fused<CountByKind, LastPayload, SumFields>(store, a);
  }
}

int run_project(const ProjectArgs& a) {
  if (auto valid = Coordinate::validate_component(a.entity, "entity"); !valid) return report_error(valid.error());
  unsigned bits = 0;
  for (const std::string& fold : a.folds) {
    if (fold_bit(fold) == 0) return usage_error("--fold is count-by-kind, last-payload or sum:FIELD");
    bits |= fold_bit(fold);
  }
  if (std::set<std::string>(a.folds.begin(), a.folds.end()).size() != a.folds.size()) {
    return usage_error("the same --fold was given twice");
  }
  const bool fused = a.folds.size() > 1;
  if (fused && (a.cache != "none" || a.evidence)) {
    return usage_error("several --fold are folded together, without --cache or --evidence");
  }
  auto cache = cache_from(a.cache);
  if (!cache) return report_error(cache.error());
  StoreOptions options;
  options.access = read_only_access();
  options.projection_cache = *cache;
  apply_master_key(options);
  auto store = Store::open(a.dir, options);
  if (!store) return report_error(store.error());
  return fused ? print_fused_bits(**store, a, bits) : print_single(**store, a);
}

}  // namespace

void add_project_command(CLI::App& app, Runner& run) {
  static ProjectArgs args;
  auto* project = app.add_subcommand("project", "Fold one entity's events with a built-in projection");
  project->add_option("DIR", args.dir, "data directory")->required();
  project->add_option("--entity", args.entity, "exact entity")->required();
  project->add_option("--fold", args.folds,
                      "count-by-kind | last-payload | sum:FIELD; several: folded together from one read")
      ->required();
  project->add_option("--cache", args.cache, "none | memory | file:PATH | lmdb:PATH");
  project->add_flag("--evidence", args.evidence, "also print the run's evidence report");
  project->callback([&run] { run = [] { return run_project(args); }; });
}

}  // namespace batpak::cli
