// drop-history: remove the oldest whole sealed segments of a store that is not open
// (Store::drop_history, docs/retention.md).
#include <charconv>
#include <optional>

#include "cli.hpp"
#include "commands.hpp"

namespace batpak::cli {
namespace {

struct DropHistoryArgs {
  std::string dir;
  std::string before;  // Parsed by parse_before(), not by CLI11.
  bool ignore_cursors = false;
};

// The global sequence `text` names: decimal digits only, 1..2^64-1. CLI11 reads integers
// with strtoull, which takes "-1" as 2^64-1, "030" as octal 24 and clamps values past 2^64-1:
// for a flag that removes history, each of those must be refused instead.
std::optional<uint64_t> parse_before(const std::string& text) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [stop, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || stop != end || value == 0) return std::nullopt;
  return value;
}

int run_drop_history(const DropHistoryArgs& a) {
  const std::optional<uint64_t> before = parse_before(a.before);
  if (!before) return usage_error("--before must be a decimal global sequence >= 1, got '" + a.before + "'");
  DropHistoryOptions options;
  options.ignore_cursors = a.ignore_cursors;
  auto report = Store::drop_history(a.dir, *before, options);
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
      "drop-history", "Remove the whole sealed segments below a global sequence (the store must not be open)");
  drop->add_option("DIR", args.dir, "data directory")->required();
  drop->add_option("--before", args.before,
                   "drop sealed segments whose visible events all have a global sequence below this (decimal, >= 1)")
      ->required()
      ->type_name("SEQ");
  drop->add_flag("--ignore-cursors", args.ignore_cursors,
                 "drop even events a durable cursor checkpoint has not consumed");
  drop->callback([&run] { run = [] { return run_drop_history(args); }; });
}

}  // namespace batpak::cli
