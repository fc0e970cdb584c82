// SimFs: an in-memory file system that simulates power cuts, for crash-state enumeration.
//
// It keeps, per file, the bytes a sync made durable and the unsynced changes since (writes
// and truncates, in issue order), and, for the directory, the names a sync_dir made durable
// and the current ones. crash_at(n) makes the nth mutating call (and every later one) fail
// with kIo without effect, as if the machine died there. crashed_copy() then builds the disk
// a power cut could leave behind: every file's durable bytes plus a chosen prefix of its
// unsynced changes (the next write optionally torn in half, or one earlier write of the prefix
// lost: reordered), under the durable names or the current ones. A new directory, like a new
// file, is durable only once its parent has been synced (sync_dir) after it was made; under the
// durable names a disk loses the directories that are not, with everything in them. A renamed
// directory keeps its synced entries; its new name is durable once its parent is synced, and
// until then a power cut loses it under both names (a real disk would keep the old name).
//
// Thread safety: every method may be called concurrently (one internal mutex).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "batpak/env.hpp"

namespace batpak::testing {

class SimFs final : public Fs {
 public:
  using Bytes = std::vector<uint8_t>;

  // The `op`-th mutating call from now (1-based; pwrite, truncate, sync, sync_all, a create,
  // rename, remove, sync_dir) and all later ones fail with kIo. 0 disarms.
  void crash_at(uint64_t op);
  bool crashed() const;
  // The `op`-th mutating call from now fails with kIo without effect (an I/O error, not a
  // crash): later calls succeed, or, when `persistent`, fail too. 0 disarms (and keeps
  // failed_call()).
  void fail_at(uint64_t op, bool persistent);
  // What the injected I/O error hit: "<call> <path>"; empty if it has not fired.
  std::string failed_call() const;
  // Mutating calls that took effect so far.
  uint64_t operations() const;
  // Those calls, in order, as "<call> <path>" (as failed_call() names one).
  std::vector<std::string> calls() const;

  struct PendingFile {
    std::string path;  // Its current name.
    size_t changes = 0;  // Unsynced writes and truncates.
    std::vector<bool> is_write;
  };
  // The files with unsynced changes, by current name.
  std::vector<PendingFile> pending_files() const;

  struct Survivor {
    std::string path;        // A PendingFile's path.
    size_t changes_kept = 0;  // The first changes_kept unsynced changes reached the disk...
    bool next_torn = false;   // ...and the first half of the next one, when it is a write.
    // Reordering: this one write among the kept changes did not reach the disk although
    // later ones did (the disk wrote the file's dirty pages out of order).
    std::optional<size_t> lost_write;
  };
  // The disk after a power cut: durable bytes, plus the survivors' changes (files not
  // listed keep none); names as durable (`current_names` false) or as now.
  std::shared_ptr<SimFs> crashed_copy(const std::vector<Survivor>& survivors, bool current_names) const;
  // Six such disks: every unsynced change lost, all kept, or all kept with the last one of
  // each file torn; each under the durable names and the current ones.
  std::vector<std::shared_ptr<SimFs>> crashed_copies_lost_kept_torn() const;

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
  class SimFile;
  struct Change {
    bool truncate = false;
    uint64_t offset = 0;  // A truncate's new size.
    Bytes data;
  };
  struct Node {
    Bytes current;
    Bytes durable;
    std::vector<Change> pending;
  };
  using Names = std::map<std::string, std::shared_ptr<Node>>;

  // REQUIRE mu_ held. step() counts one mutating call, or fails it once crashed.
  Status step(const std::string& what, const std::string& path);
  static void apply(Bytes& bytes, const Change& change);
  // Renames a directory and everything under it. REQUIRES: mu_ held.
  void rename_dir(const std::string& from, const std::string& to);

  mutable std::mutex mu_;
  Names names_;          // Current directory entries.
  Names durable_names_;  // As of the last sync_dir.
  std::set<std::string> dirs_;
  std::set<std::string> durable_dirs_;  // Made, then their parent synced.
  std::vector<std::string> calls_;  // operations() is its size.
  uint64_t crash_at_ = 0;
  bool crashed_ = false;
  uint64_t fail_at_ = 0;
  bool fail_persistent_ = false;
  std::string failed_call_;
};

}  // namespace batpak::testing
