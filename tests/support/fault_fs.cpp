#include "support/fault_fs.hpp"

#include <algorithm>

namespace batpak::testing {

class FaultFs::FaultFile final : public File {
 public:
  FaultFile(FaultFs& fs, std::unique_ptr<File> base, std::string path)
      : fs_(fs), base_(std::move(base)), path_(std::move(path)) {}

  Result<size_t> pread(uint64_t offset, std::span<uint8_t> data) override {
    return base_->pread(offset, data);
  }
  Status pwrite(uint64_t offset, std::span<const uint8_t> data) override {
    fs_.wait_while_writes_held();
    std::lock_guard lock(fs_.mu_);
    return fs_.file_pwrite(*base_, path_, offset, data);
  }
  Status sync() override {
    std::lock_guard lock(fs_.mu_);
    return fs_.file_sync(*base_, path_, /*all=*/false);
  }
  Status sync_all() override {
    std::lock_guard lock(fs_.mu_);
    return fs_.file_sync(*base_, path_, /*all=*/true);
  }
  Status truncate(uint64_t size) override {
    std::lock_guard lock(fs_.mu_);
    return fs_.file_truncate(*base_, path_, size);
  }
  Result<uint64_t> size() override { return base_->size(); }
  Result<std::span<uint8_t>> map_shared(uint64_t bytes) override {
    {
      std::lock_guard lock(fs_.mu_);
      if (!fs_.pass_map_shared_) return File::map_shared(bytes);
    }
    return base_->map_shared(bytes);
  }

 private:
  FaultFs& fs_;
  std::unique_ptr<File> base_;
  std::string path_;
};

FaultFs::FaultFs(std::shared_ptr<Fs> base) : base_(std::move(base)) {}

void FaultFs::fail_nth_sync(uint64_t n) {
  std::lock_guard lock(mu_);
  sync_countdown_ = n;
}

void FaultFs::pass_map_shared(bool pass) {
  std::lock_guard lock(mu_);
  pass_map_shared_ = pass;
}

void FaultFs::fail_nth_write(uint64_t n) {
  std::lock_guard lock(mu_);
  write_countdown_ = n;
}

void FaultFs::set_freeze_on_fault(bool freeze) {
  std::lock_guard lock(mu_);
  freeze_on_fault_ = freeze;
}

void FaultFs::freeze() {
  std::lock_guard lock(mu_);
  frozen_ = true;
}

bool FaultFs::frozen() const {
  std::lock_guard lock(mu_);
  return frozen_;
}

void FaultFs::hold_writes() {
  std::lock_guard lock(hold_mu_);
  writes_held_ = true;
}

void FaultFs::release_writes() {
  {
    std::lock_guard lock(hold_mu_);
    writes_held_ = false;
  }
  hold_cv_.notify_all();
}

uint64_t FaultFs::writes_waiting() const {
  std::lock_guard lock(hold_mu_);
  return writes_waiting_;
}

void FaultFs::wait_while_writes_held() {
  std::unique_lock lock(hold_mu_);
  if (!writes_held_) return;
  ++writes_waiting_;
  hold_cv_.wait(lock, [&] { return !writes_held_; });
  --writes_waiting_;
}

uint64_t FaultFs::faults_fired() const {
  std::lock_guard lock(mu_);
  return faults_fired_;
}

uint64_t FaultFs::syncs() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

uint64_t FaultFs::writes() const {
  std::lock_guard lock(mu_);
  return writes_;
}

bool FaultFs::fire(uint64_t& countdown) {
  if (countdown == 0 || --countdown != 0) return false;
  ++faults_fired_;
  if (freeze_on_fault_) frozen_ = true;
  return true;
}

Status FaultFs::frozen_error(const std::string& what, const std::string& path) const {
  return tl::unexpected(Error{ErrorCode::kIo, what + ": injected fault (file system frozen)", path, 0, {}});
}

Status FaultFs::file_pwrite(File& base, const std::string& path, uint64_t offset,
                            std::span<const uint8_t> data) {
  if (frozen_) return frozen_error("pwrite", path);
  if (fire(write_countdown_)) {
    return tl::unexpected(Error{ErrorCode::kIo, "pwrite: injected fault", path, offset, {}});
  }
  Change change;
  change.path = path;
  change.offset = offset;
  change.data.assign(data.begin(), data.end());
  auto size = base.size();
  if (!size) return tl::unexpected(size.error());
  change.old_size = *size;
  change.old_bytes_at = offset;
  if (offset < *size) {
    change.old_bytes.resize(static_cast<size_t>(std::min<uint64_t>(data.size(), *size - offset)));
    auto got = base.pread(offset, change.old_bytes);
    if (!got) return tl::unexpected(got.error());
    change.old_bytes.resize(*got);
  }
  if (auto s = base.pwrite(offset, data); !s) return s;
  ++writes_;
  pending_.push_back(std::move(change));
  return {};
}

Status FaultFs::file_sync(File& base, const std::string& path, bool all) {
  if (frozen_) return frozen_error(all ? "fsync" : "fdatasync", path);
  if (fire(sync_countdown_)) {
    return tl::unexpected(Error{ErrorCode::kIo, std::string(all ? "fsync" : "fdatasync") + ": injected fault", path, 0, {}});
  }
  if (auto s = all ? base.sync_all() : base.sync(); !s) return s;
  ++syncs_;
  std::erase_if(pending_, [&](const Change& c) { return c.path == path; });
  return {};
}

Status FaultFs::file_truncate(File& base, const std::string& path, uint64_t size) {
  if (frozen_) return frozen_error("ftruncate", path);
  Change change;
  change.path = path;
  change.offset = size;
  change.truncate = true;
  auto old_size = base.size();
  if (!old_size) return tl::unexpected(old_size.error());
  change.old_size = *old_size;
  change.old_bytes_at = size;
  if (size < *old_size) {
    change.old_bytes.resize(static_cast<size_t>(*old_size - size));
    auto got = base.pread(size, change.old_bytes);
    if (!got) return tl::unexpected(got.error());
    change.old_bytes.resize(*got);
  }
  if (auto s = base.truncate(size); !s) return s;
  pending_.push_back(std::move(change));
  return {};
}

std::vector<FaultFs::PendingChange> FaultFs::pending() const {
  std::lock_guard lock(mu_);
  std::vector<PendingChange> out;
  for (const Change& c : pending_) {
    out.push_back(PendingChange{c.path, c.offset, c.data.size(), c.truncate,
                                std::all_of(c.data.begin(), c.data.end(), [](uint8_t b) { return b == 0; })});
  }
  return out;
}

Status FaultFs::crash(size_t keep_whole, uint64_t keep_prefix_bytes) {
  std::lock_guard lock(mu_);
  frozen_ = true;
  std::map<std::string, std::unique_ptr<File>> files;
  auto file_of = [&](const std::string& path) -> Result<File*> {
    auto it = files.find(path);
    if (it == files.end()) {
      auto opened = base_->open(path, OpenMode::kReadWrite);
      if (!opened) return tl::unexpected(opened.error());
      it = files.emplace(path, std::move(*opened)).first;
    }
    return it->second.get();
  };
  // Undo every pending change, newest first: each one's saved bytes describe the file as it
  // was just before it, so this walks every file back to its last synced state.
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    auto file = file_of(it->path);
    if (!file) return tl::unexpected(file.error());
    if (!it->old_bytes.empty()) {
      if (auto s = (*file)->pwrite(it->old_bytes_at, it->old_bytes); !s) return s;
    }
    if (auto s = (*file)->truncate(it->old_size); !s) return s;
  }
  // Redo the changes the crash kept, oldest first; the last one possibly only in part.
  for (size_t i = 0; i < pending_.size() && i <= keep_whole; ++i) {
    const Change& c = pending_[i];
    auto file = file_of(c.path);
    if (!file) return tl::unexpected(file.error());
    if (i < keep_whole) {
      if (c.truncate) {
        if (auto s = (*file)->truncate(c.offset); !s) return s;
      } else if (auto s = (*file)->pwrite(c.offset, c.data); !s) {
        return s;
      }
    } else if (!c.truncate && keep_prefix_bytes > 0) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(keep_prefix_bytes, c.data.size()));
      if (auto s = (*file)->pwrite(c.offset, {c.data.data(), n}); !s) return s;
    }
  }
  for (auto& [path, file] : files) {
    if (auto s = file->sync_all(); !s) return s;
  }
  pending_.clear();
  return {};
}

Result<std::unique_ptr<File>> FaultFs::open(const std::string& path, OpenMode mode) {
  {
    std::lock_guard lock(mu_);
    if (frozen_ && mode != OpenMode::kRead) return tl::unexpected(frozen_error("open", path).error());
  }
  auto file = base_->open(path, mode);
  if (!file) return tl::unexpected(file.error());
  return std::unique_ptr<File>(new FaultFile(*this, std::move(*file), path));
}

Status FaultFs::create_dir(const std::string& path) {
  std::lock_guard lock(mu_);
  if (frozen_) return frozen_error("mkdir", path);
  return base_->create_dir(path);
}

Result<std::vector<std::string>> FaultFs::list_dir(const std::string& path) {
  return base_->list_dir(path);
}

Result<bool> FaultFs::exists(const std::string& path) { return base_->exists(path); }

Status FaultFs::remove(const std::string& path) {
  std::lock_guard lock(mu_);
  if (frozen_) return frozen_error("unlink", path);
  std::erase_if(pending_, [&](const Change& c) { return c.path == path; });
  return base_->remove(path);
}

Status FaultFs::rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  if (frozen_) return frozen_error("rename", from);
  if (auto s = base_->rename(from, to); !s) return s;
  std::erase_if(pending_, [&](const Change& c) { return c.path == to; });
  for (Change& c : pending_) {
    if (c.path == from) c.path = to;
  }
  return {};
}

Status FaultFs::sync_dir(const std::string& path) {
  std::lock_guard lock(mu_);
  if (frozen_) return frozen_error("fsync dir", path);
  return base_->sync_dir(path);
}

Result<std::unique_ptr<FileLock>> FaultFs::lock(const std::string& path) { return base_->lock(path); }

}  // namespace batpak::testing
