// backup: copy a store into a new directory, then check the copy as verify does.
#include "cli.hpp"
#include "commands.hpp"
#include "keys.hpp"

namespace batpak::cli {
namespace {

struct BackupArgs {
  std::string dir;
  std::string destination;
  std::string new_master_key_file;  // Rewrap the copy's keys under this key...
  bool no_master_key = false;       // ...or leave them unwrapped.
};

// Opens the copy read-only with the master key its keys are wrapped under, and verifies it.
Result<VerifyReport> verify_copy(const std::string& destination, const BackupOptions& options) {
  StoreOptions store_options;
  store_options.access = AccessMode::kReadOnly;
  if (options.rewrap_keys) {
    store_options.master_key = options.master_key;
  } else {
    apply_master_key(store_options);
  }
  auto copy = Store::open(destination, store_options);
  if (!copy) return tl::unexpected(copy.error());
  return (*copy)->verify();
}

int run_backup(const BackupArgs& a) {
  if (!a.new_master_key_file.empty() && a.no_master_key) {
    return usage_error("give --new-master-key-file or --no-master-key, not both");
  }
  BackupOptions options;
  options.rewrap_keys = !a.new_master_key_file.empty() || a.no_master_key;
  if (!a.new_master_key_file.empty()) {
    auto key = read_master_key_file(a.new_master_key_file);
    if (!key) return report_error(key.error());
    options.master_key = *key;
  }
  Opened source = open_store(a.dir, AccessMode::kReadOnly);
  if (!source.store) return source.exit_code;
  auto report = source.store->backup(a.destination, options);
  if (!report) return report_error(report.error());
  auto verified = verify_copy(a.destination, options);
  if (!verified) return report_error(verified.error());
  print_line({{"destination", a.destination},
              {"last_sequence", report->last_sequence},
              {"segments", report->segments},
              {"bytes", report->bytes},
              {"verified", verified->ok()}});
  return verified->ok() ? kExitOk : kExitFinding;
}

}  // namespace

void add_backup_command(CLI::App& app, Runner& run) {
  static BackupArgs args;
  auto* backup = app.add_subcommand("backup", "Copy the store into a new directory and verify the copy");
  backup->add_option("DIR", args.dir, "data directory")->required();
  backup->add_option("DEST", args.destination, "the new directory (must not exist)")->required();
  backup->add_option("--new-master-key-file", args.new_master_key_file,
                     "wrap the copy's payload keys under this master key file (from master-keygen)");
  backup->add_flag("--no-master-key", args.no_master_key, "leave the copy's payload keys unwrapped");
  backup->callback([&run] { run = [] { return run_backup(args); }; });
}

}  // namespace batpak::cli
