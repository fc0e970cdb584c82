// drop-history: remove the oldest whole sealed segments of a store that is not open
// (Store::drop_history, docs/retention.md).
#include <optional>

#include "cli.hpp"
#include "commands.hpp"

namespace batpak::cli {
namespace {

struct DropHistoryArgs {
  std::string dir;
  std::optional<uint64_t> before;
  std::optional<uint64_t> before_wall_ms;
  bool ignore_cursors = false;
};

int run_drop_history(const DropHistoryArgs& a) {
  if (!a.before && !a.before_wall_ms) return usage_error("give --before SEQ, --before-wall-ms MS, or both");
  if (a.before == 0u) return usage_error("--before must be a global sequence >= 1");
  DropHistoryOptions options;
  options.ignore_cursors = a.ignore_cursors;
  options.before_wall_ms = a.before_wall_ms.value_or(UINT64_MAX);
  auto report = Store::drop_history(a.dir, a.before.value_or(UINT64_MAX), options);
  if (!report) return report_error(report.error());
  print_line({{"first_segment_id", report->first_segment_id},
              {"first_sequence", report->first_sequence},
              {"segments_removed", report->segments_removed},
              {"events_removed", report->events_removed},
              {"bytes_removed", report->bytes_removed}});
  return kExitOk;
}

}  // namespace

void add_drop_history_command(CLI::App& app, Runner& run) {
  static DropHistoryArgs args;
  auto* drop = app.add_subcommand(
      "drop-history",
      "Remove the whole sealed segments below a global sequence or a time (the store must not be open)");
  drop->add_option("DIR", args.dir, "data directory")->required();
  drop->add_option("--before", args.before,
                   "drop sealed segments whose visible events all have a global sequence below this (decimal, >= 1)")
      ->check(decimal_number())
      ->type_name("SEQ");
  drop->add_option("--before-wall-ms", args.before_wall_ms,
                   "drop sealed segments whose visible events all have a wall_ms (Unix ms) below this")
      ->check(decimal_number())
      ->type_name("MS");
  drop->add_flag("--ignore-cursors", args.ignore_cursors,
                 "drop even events a durable cursor checkpoint has not consumed");
  drop->callback([&run] { run = [] { return run_drop_history(args); }; });
}

}  // namespace batpak::cli
