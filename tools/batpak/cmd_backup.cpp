// backup: copy a store into a new directory, then check the copy as verify does.
#include "cli.hpp"
#include "commands.hpp"

namespace batpak::cli {
namespace {

int run_backup(const std::string& dir, const std::string& destination) {
  Opened source = open_store(dir, AccessMode::kReadOnly);
  if (!source.store) return source.exit_code;
  auto report = source.store->backup(destination);
  if (!report) return report_error(report.error());
  Opened copy = open_store(destination, AccessMode::kReadOnly);
  if (!copy.store) return copy.exit_code;
  auto verified = copy.store->verify();
  if (!verified) return report_error(verified.error());
  print_line({{"destination", destination},
              {"last_sequence", report->last_sequence},
              {"segments", report->segments},
              {"bytes", report->bytes},
              {"verified", verified->ok()}});
  return verified->ok() ? kExitOk : kExitFinding;
}

}  // namespace

void add_backup_command(CLI::App& app, Runner& run) {
  static std::string dir;
  static std::string destination;
  auto* backup = app.add_subcommand("backup", "Copy the store into a new directory and verify the copy");
  backup->add_option("DIR", dir, "data directory")->required();
  backup->add_option("DEST", destination, "the new directory (must not exist)")->required();
  backup->callback([&run] { run = [] { return run_backup(dir, destination); }; });
}

}  // namespace batpak::cli
