// A batpak::Fs for tests: passes every call through to a real file system (posix_fs() by
// default) and can
//  (a) fail the Nth File::sync()/sync_all() or the Nth File::pwrite() with kIo, and
//  (b) hold every File::pwrite until released, and
//  (c) simulate a crash: it remembers, per file, every write and truncate issued since that
//      file's last successful sync, and crash() rewrites the real files into a state a
//      crash could have left: the unsynced changes are undone, except a chosen number of
//      them in issue order, optionally followed by a prefix of the next one (a torn write).
//      The test then drops the store and reopens the directory with the real posix fs.
//
// The model is deliberately simple and honest about what it leaves out: only file contents
// and sizes are modelled (a file created or renamed before the crash stays, as if the
// directory had been synced), and a sync makes all of that file's earlier changes durable.
//
// Thread safety: every method may be called concurrently. File operations are serialised
// by one mutex, so freezing (see freeze()) is atomic with respect to in-flight writes.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "batpak/env.hpp"

namespace batpak::testing {

class FaultFs final : public Fs {
 public:
  explicit FaultFs(std::shared_ptr<Fs> base = posix_fs());

  // ---- (a) injected failures. Counting starts at the call; n >= 1; 0 disarms. ----
  // The nth File::sync() or File::sync_all() from now fails with kIo and does not sync.
  void fail_nth_sync(uint64_t n);
  // The nth File::pwrite() from now fails with kIo and writes nothing.
  void fail_nth_write(uint64_t n);
  // When true, the injected failure also freezes the file system (as if the machine died at
  // that moment): see freeze().
  void set_freeze_on_fault(bool freeze);
  // From now on every File::pwrite/sync/sync_all/truncate, and every Fs call that changes
  // the directory, fails with kIo without touching the disk. Reads still pass through.
  void freeze();
  bool frozen() const;
  // When true, File::map_shared passes through to the real file (by default it is
  // unsupported, as for any Fs that does not map). crash() does not model a mapping: what
  // was stored into it stays, as after a process crash.
  void pass_map_shared(bool pass);
  // How many injected failures have fired.
  uint64_t faults_fired() const;
  // How many File::sync()/sync_all() and File::pwrite() calls succeeded so far.
  uint64_t syncs() const;
  uint64_t writes() const;

  // ---- (b) held writes ----
  // While held, every File::pwrite first waits until release_writes() (a disk that stalls).
  void hold_writes();
  void release_writes();
  // How many File::pwrite calls are waiting for release_writes() now.
  uint64_t writes_waiting() const;

  // ---- (c) crash simulation ----
  struct PendingChange {
    std::string path;
    uint64_t offset = 0;  // For a truncate: the new size.
    uint64_t bytes = 0;   // Bytes written (0 for a truncate).
    bool truncate = false;
    bool all_zero = false;  // A write of zero bytes only (e.g. preallocation).
  };
  // The changes not yet made durable by a sync of their file, in issue order.
  std::vector<PendingChange> pending() const;
  // Freezes the file system, then makes the real files look as if the machine had crashed:
  // of the pending changes (issue order) the first `keep_whole` stay, then the first
  // `keep_prefix_bytes` of the next one (if it is a write) stay, and everything later is
  // undone. crash(0) drops every unsynced change. Returns the first I/O error while
  // rewriting, if any.
  Status crash(size_t keep_whole = 0, uint64_t keep_prefix_bytes = 0);

  // Fs.
  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override;
  Status create_dir(const std::string& path) override;
  Result<std::vector<std::string>> list_dir(const std::string& path) override;
  Result<bool> exists(const std::string& path) override;
  Status remove(const std::string& path) override;
  Status rename(const std::string& from, const std::string& to) override;
  Status sync_dir(const std::string& path) override;
  Result<std::unique_ptr<FileLock>> lock(const std::string& path) override;

 private:
  class FaultFile;
  friend class FaultFile;

  // One unsynced change and what it replaced, so that it can be undone and redone.
  struct Change {
    std::string path;
    uint64_t offset = 0;
    bool truncate = false;
    std::vector<uint8_t> data;       // Bytes written (write only).
    uint64_t old_size = 0;           // File size before the change.
    std::vector<uint8_t> old_bytes;  // Bytes the change overwrote or cut off.
    uint64_t old_bytes_at = 0;       // Where old_bytes start.
  };

  // All REQUIRE mu_ held.
  Status file_pwrite(File& base, const std::string& path, uint64_t offset,
                     std::span<const uint8_t> data);
  Status file_sync(File& base, const std::string& path, bool all);
  Status file_truncate(File& base, const std::string& path, uint64_t size);
  bool fire(uint64_t& countdown);
  void wait_while_writes_held();
  Status frozen_error(const std::string& what, const std::string& path) const;

  const std::shared_ptr<Fs> base_;
  mutable std::mutex mu_;
  uint64_t sync_countdown_ = 0;
  uint64_t write_countdown_ = 0;
  bool freeze_on_fault_ = false;
  bool pass_map_shared_ = false;
  bool frozen_ = false;
  uint64_t faults_fired_ = 0;
  uint64_t syncs_ = 0;
  uint64_t writes_ = 0;
  std::vector<Change> pending_;  // Issue order.
  // Held writes wait on their own mutex, not mu_, so that reads and other calls go on.
  mutable std::mutex hold_mu_;
  std::condition_variable hold_cv_;
  bool writes_held_ = false;
  uint64_t writes_waiting_ = 0;
};

}  // namespace batpak::testing
