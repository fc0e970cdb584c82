// What the write commands share (cmd_write.cpp, cmd_import_from.cpp): their flags and the
// options of the read-write open they make.
#pragma once

#include <optional>
#include <string>

#include "cli.hpp"

namespace batpak::cli {

// What every write command takes: the store, when to start a new segment (nothing: the
// library's default; the store checks the range), and the seed to sign receipts with (empty:
// unsigned).
struct WriteArgs {
  std::string dir;
  std::optional<uint64_t> segment_bytes_max;
  std::string signing_seed_file;
  bool encrypt_payloads = false;  // init only.
};

// The options of a read-write open for `w`, with the seed read from its file.
Result<StoreOptions> write_options(const WriteArgs& w, Durability durability);

// import: from stdin (export lines), or with --from from another store (Store::import_from).
struct ImportArgs : WriteArgs {
  std::string from;                  // Empty: stdin.
  std::string from_master_key_file;  // The source's master key; empty: none.
  RegionArgs region;                 // With --from: the events to import.
  std::optional<uint64_t> after;     // With --from: only events after this source sequence.
  std::optional<std::string> after_event_id;  // With --after: the source's event there (32 hex).
  bool follow = false;               // With --from: keep importing until SIGINT/SIGTERM.
  std::optional<uint32_t> poll_ms;   // With --follow: the pause between passes.
};

// import --from: copies the selected events of the source store into DIR and prints the
// ImportReport once they are durable; with --follow, one pass after another, a report line
// for each pass that found the source grown (and for the first).
int run_import_from(const ImportArgs& a);

}  // namespace batpak::cli
