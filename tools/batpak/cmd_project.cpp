// project: fold one entity with a built-in projection and print its state.
#include <algorithm>
#include <string>

#include "cli.hpp"
#include "commands.hpp"
#include "folds.hpp"

namespace batpak::cli {
namespace {

struct ProjectArgs {
  std::string dir, entity, fold, cache = "none";
  bool evidence = false;
};

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
    if (a.evidence) print_line({{"entity", a.entity}, {"fold", a.fold}, {"evidence", batpak::to_json(run.report)}});
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
                         {"fold", a.fold},
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

int run_project(const ProjectArgs& a) {
  if (auto valid = Coordinate::validate_component(a.entity, "entity"); !valid) return report_error(valid.error());
  const bool sum = a.fold.starts_with("sum:") && a.fold.size() > 4;
  if (a.fold != "count-by-kind" && a.fold != "last-payload" && !sum) {
    return usage_error("--fold is count-by-kind, last-payload or sum:FIELD");
  }
  auto cache = cache_from(a.cache);
  if (!cache) return report_error(cache.error());
  StoreOptions options;
  options.access = read_only_access();
  options.projection_cache = *cache;
  apply_master_key(options);
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
  project->add_flag("--evidence", args.evidence, "also print the run's evidence report");
  project->callback([&run] { run = [] { return run_project(args); }; });
}

}  // namespace batpak::cli
