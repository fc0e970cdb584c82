// batpak: the command line tool. See docs/cli.md for the contract.
#include <exception>
#include <iostream>

#include "cli.hpp"
#include "commands.hpp"
#include "keys.hpp"

int main(int argc, char** argv) {
  using namespace batpak::cli;
  CLI::App app{"batpak: an embedded, tamper-evident event store (docs/cli.md)"};
  app.require_subcommand(1);
  app.fallthrough();  // `--snapshot` and `--master-key-file` may follow the subcommand too.
  bool snapshot = false;
  app.add_flag("--snapshot", snapshot,
               "read-only commands read a snapshot of the store without locking it, also while another "
               "process holds it (docs/cli.md)");
  std::string master_key_file;
  app.add_option("--master-key-file", master_key_file,
                 "the master key file (from master-keygen) of a store whose payload keys it wraps: "
                 "needed by every command that opens one, and by init to make one (docs/cli.md)");
  Runner run;
  add_write_commands(app, run);
  add_read_commands(app, run);
  add_verify_command(app, run);
  add_backup_command(app, run);
  add_project_command(app, run);
  add_tail_command(app, run);
  add_drop_history_command(app, run);
  add_cursors_command(app, run);
  add_entities_command(app, run);
  add_key_commands(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }
  set_read_snapshots(snapshot);
  if (!master_key_file.empty()) {
    auto key = read_master_key_file(master_key_file);
    if (!key) return report_error(key.error());
    set_master_key(*key);
  }
  try {
    return run();
  } catch (const std::exception& e) {  // Nothing should throw; never let it escape.
    return report_error(batpak::Error{batpak::ErrorCode::kIo, std::string("internal error: ") + e.what(), {}, 0, {}});
  }
}
