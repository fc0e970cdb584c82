// Shared pieces of the batpak command line tool: exit codes, output, store opening.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "batpak/batpak.hpp"

namespace batpak::cli {

// Exit codes (docs/cli.md): 0 success, 1 a refusal or finding, 2 bad usage or input.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFinding = 1;
inline constexpr int kExitUsage = 2;

// The exit code an error stands for: bad input is 2, everything else is 1.
int exit_code_for(const Error& error);
// {"error": code name, "message": ..., "file" and "offset" when known, "entity" when known}.
nlohmann::json error_json(const Error& error);
// Prints error_json(error) to stderr and returns exit_code_for().
int report_error(const Error& error);
// Prints a usage error to stderr and returns kExitUsage.
int usage_error(const std::string& message);
// Prints one JSON value as a line on stdout and flushes it. Invalid UTF-8 inside strings
// (possible only in payloads written by other programs) is replaced, never thrown.
void print_line(const nlohmann::json& value);

// Opens DIR with the given options; errors are reported and turned into an exit code.
struct Opened {
  std::unique_ptr<Store> store;
  int exit_code = kExitOk;
};
// With snapshots on (`--snapshot`, set once by main() before a command runs), a kReadOnly
// open is made as kReadSnapshot: no lock, a snapshot of a store another process may hold.
Opened open_store(const std::string& dir, StoreOptions options);
Opened open_store(const std::string& dir, AccessMode access);
// Opens DIR read-write only if it already holds a store (kNotFound otherwise, exit 1): for
// commands that change a store but must not make one.
Opened open_existing_store(const std::string& dir);
void set_read_snapshots(bool on);
// The master key read from `--master-key-file` (set once by main() before a command runs),
// given to every store this process opens: open_store() sets it, and so must a command
// that opens a store itself (apply_master_key).
void set_master_key(const std::optional<MasterKey>& key);
void apply_master_key(StoreOptions& options);
// kReadOnly, or kReadSnapshot with snapshots on: for commands that open a store themselves.
AccessMode read_only_access();

// A check for every numeric flag: plain decimal digits that fit in 64 bits, passed on without
// leading zeros. CLI11 reads integers with strtoull in auto base, so without it "-1" would
// be 2^64 - 1, "030" octal 24 and "0x1e" 30; a value too large for its flag's type is still
// CLI11's error. Either way the flag is a usage error (exit 2).
CLI::Validator decimal_number();

// The region flags shared by query and tail: --entity, --scope, --kind, --category.
struct RegionArgs {
  std::string entity, scope, kind;
  std::optional<uint16_t> category;
};
void add_region_options(CLI::App& command, RegionArgs& args);
Result<Region> region_from(const RegionArgs& args);
// True when any of the region flags was given.
bool region_given(const RegionArgs& args);

// For the following commands (tail --follow, import --follow): from the call on, SIGINT and
// SIGTERM no longer end the process but ask it to stop after the pass in progress;
// stop_requested() tells whether one came.
void stop_on_signals();
bool stop_requested();

// True when `dir` already holds a store (any segment file).
bool holds_store(const std::string& dir);

// Lowercase hex of `bytes`.
std::string to_hex(std::span<const uint8_t> bytes);

}  // namespace batpak::cli
