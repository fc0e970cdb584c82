// The batpak subcommands. Each add_* registers one subcommand on `app`; when it is chosen,
// `run` is set to the function that executes it and returns the exit code.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace batpak::cli {

using Runner = std::function<int()>;

void add_write_commands(CLI::App& app, Runner& run);    // init, append, import, shred
void add_read_commands(CLI::App& app, Runner& run);     // get, query, walk, stats, frontier, export
void add_verify_command(CLI::App& app, Runner& run);    // verify, verify-receipt
void add_backup_command(CLI::App& app, Runner& run);    // backup
void add_project_command(CLI::App& app, Runner& run);   // project
void add_tail_command(CLI::App& app, Runner& run);      // tail
void add_drop_history_command(CLI::App& app, Runner& run);  // drop-history
void add_cursors_command(CLI::App& app, Runner& run);   // cursors
void add_entities_command(CLI::App& app, Runner& run);  // entities
void add_key_commands(CLI::App& app, Runner& run);      // keygen, public-key, master-keygen, change-master-key

}  // namespace batpak::cli
