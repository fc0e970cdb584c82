// cursors: list the durable cursor checkpoints of a store, remove one, or move one
// (Cursor::list_checkpoints, remove_checkpoint, move_checkpoint; docs/cli.md).
#include <optional>

#include "cli.hpp"
#include "commands.hpp"

namespace batpak::cli {
namespace {

struct CursorsArgs {
  std::string dir;
  std::optional<std::string> remove;
  std::optional<std::string> move;
  std::optional<uint64_t> to;
};

nlohmann::json checkpoint_json(const CursorCheckpointInfo& info) {
  return {{"checkpoint_id", info.checkpoint_id},
          {"position", info.position},
          {"region", info.region_identity},
          {"sequences_behind", info.sequences_behind},
          {"pending_events", info.pending_events ? nlohmann::json(*info.pending_events) : nlohmann::json(nullptr)},
          {"error", info.error ? error_json(*info.error) : nlohmann::json(nullptr)}};
}

// One line per checkpoint; exit 1 when any of them would be refused by a resume.
int list(const Store& store) {
  auto listed = Cursor::list_checkpoints(store);
  if (!listed) return report_error(listed.error());
  int exit_code = kExitOk;
  for (const CursorCheckpointInfo& info : *listed) {
    print_line(checkpoint_json(info));
    if (info.error) exit_code = kExitFinding;
  }
  return exit_code;
}

int remove(const Store& store, const std::string& checkpoint_id) {
  if (auto removed = Cursor::remove_checkpoint(store, checkpoint_id); !removed) return report_error(removed.error());
  print_line({{"checkpoint_id", checkpoint_id}, {"removed", true}});
  return kExitOk;
}

int move(const Store& store, const std::string& checkpoint_id, uint64_t position) {
  auto previous = Cursor::move_checkpoint(store, checkpoint_id, position);
  if (!previous) return report_error(previous.error());
  print_line({{"checkpoint_id", checkpoint_id}, {"position", position}, {"previous_position", *previous}});
  return kExitOk;
}

int run_cursors(const CursorsArgs& a) {
  if (a.remove && a.move) return usage_error("give --remove or --move, not both");
  if (a.move.has_value() != a.to.has_value()) return usage_error("--move ID needs --to SEQ, and --to only goes with --move");
  if (!a.remove && !a.move) {
    Opened opened = open_store(a.dir, AccessMode::kReadOnly);
    return opened.store ? list(*opened.store) : opened.exit_code;
  }
  Opened opened = open_existing_store(a.dir);
  if (!opened.store) return opened.exit_code;
  const int exit_code = a.move ? move(*opened.store, *a.move, *a.to) : remove(*opened.store, *a.remove);
  if (auto closed = opened.store->close(); !closed && exit_code == kExitOk) return report_error(closed.error());
  return exit_code;
}

}  // namespace

void add_cursors_command(CLI::App& app, Runner& run) {
  static CursorsArgs args;
  auto* cursors = app.add_subcommand(
      "cursors", "List the durable cursor checkpoints of a store; remove one, or move one to another position");
  cursors->add_option("DIR", args.dir, "data directory")->required();
  cursors->add_option("--remove", args.remove, "delete this checkpoint (it no longer holds back drop-history)")
      ->type_name("ID");
  cursors->add_option("--move", args.move, "set this checkpoint's position (with --to), keeping its region")
      ->type_name("ID");
  cursors->add_option("--to", args.to, "the position for --move: the last global sequence handled (0: none)")
      ->check(decimal_number())
      ->type_name("SEQ");
  cursors->callback([&run] { run = [] { return run_cursors(args); }; });
}

}  // namespace batpak::cli
