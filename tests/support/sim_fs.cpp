#include "support/sim_fs.hpp"

#include <algorithm>
#include <cstring>

namespace batpak::testing {

namespace {

std::string parent_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

}  // namespace

class SimFs::SimFile final : public File {
 public:
  SimFile(SimFs& fs, std::shared_ptr<Node> node, std::string path, bool writable)
      : fs_(fs), node_(std::move(node)), path_(std::move(path)), writable_(writable) {}

  Result<size_t> pread(uint64_t offset, std::span<uint8_t> data) override {
    std::lock_guard lock(fs_.mu_);
    const Bytes& bytes = node_->current;
    if (offset >= bytes.size()) return size_t{0};
    const size_t n = std::min<size_t>(data.size(), bytes.size() - offset);
    std::memcpy(data.data(), bytes.data() + offset, n);
    return n;
  }
  Status pwrite(uint64_t offset, std::span<const uint8_t> data) override {
    return change(Change{false, offset, Bytes(data.begin(), data.end())}, "pwrite");
  }
  Status truncate(uint64_t size) override { return change(Change{true, size, {}}, "truncate"); }
  Status sync() override { return sync_node(); }
  Status sync_all() override { return sync_node(); }
  Result<uint64_t> size() override {
    std::lock_guard lock(fs_.mu_);
    return node_->current.size();
  }

 private:
  Status change(Change c, const char* what) {
    if (!writable_) return make_error(ErrorCode::kIo, std::string(what) + " on a read-only file " + path_);
    std::lock_guard lock(fs_.mu_);
    if (auto s = fs_.step(what, path_); !s) return s;
    apply(node_->current, c);
    node_->pending.push_back(std::move(c));
    return {};
  }
  Status sync_node() {
    std::lock_guard lock(fs_.mu_);
    if (auto s = fs_.step("sync", path_); !s) return s;
    node_->durable = node_->current;
    node_->pending.clear();
    return {};
  }

  SimFs& fs_;
  std::shared_ptr<Node> node_;
  std::string path_;
  bool writable_;
};

void SimFs::apply(Bytes& bytes, const Change& change) {
  if (change.truncate) {
    bytes.resize(change.offset, 0);
    return;
  }
  if (bytes.size() < change.offset + change.data.size()) bytes.resize(change.offset + change.data.size(), 0);
  std::copy(change.data.begin(), change.data.end(), bytes.begin() + static_cast<std::ptrdiff_t>(change.offset));
}

Status SimFs::step(const std::string& what, const std::string& path) {
  if (!crashed_ && crash_at_ != 0 && calls_.size() + 1 == crash_at_) crashed_ = true;
  if (crashed_) return make_error(ErrorCode::kIo, "simulated power cut: " + what + " " + path);
  if (fail_at_ != 0 && calls_.size() + 1 >= fail_at_ && (failed_call_.empty() || fail_persistent_)) {
    if (failed_call_.empty()) failed_call_ = what + " " + path;
    if (!fail_persistent_) fail_at_ = 0;
    return make_error(ErrorCode::kIo, "injected I/O error: " + what + " " + path);
  }
  calls_.push_back(what + " " + path);
  return {};
}

void SimFs::fail_at(uint64_t op, bool persistent) {
  std::lock_guard lock(mu_);
  fail_at_ = op == 0 ? 0 : calls_.size() + op;
  fail_persistent_ = persistent;
  if (op != 0) failed_call_.clear();
}

std::string SimFs::failed_call() const {
  std::lock_guard lock(mu_);
  return failed_call_;
}

void SimFs::crash_at(uint64_t op) {
  std::lock_guard lock(mu_);
  crash_at_ = op == 0 ? 0 : calls_.size() + op;
}

bool SimFs::crashed() const {
  std::lock_guard lock(mu_);
  return crashed_;
}

uint64_t SimFs::operations() const {
  std::lock_guard lock(mu_);
  return calls_.size();
}

std::vector<std::string> SimFs::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

std::vector<SimFs::PendingFile> SimFs::pending_files() const {
  std::lock_guard lock(mu_);
  std::vector<PendingFile> out;
  for (const auto& [path, node] : names_) {
    if (node->pending.empty()) continue;
    PendingFile f{path, node->pending.size(), {}};
    for (const Change& c : node->pending) f.is_write.push_back(!c.truncate);
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<std::shared_ptr<SimFs>> SimFs::crashed_copies_lost_kept_torn() const {
  std::vector<std::shared_ptr<SimFs>> disks;
  for (bool current_names : {false, true}) {
    disks.push_back(crashed_copy({}, current_names));
    std::vector<Survivor> all, torn;
    for (const PendingFile& f : pending_files()) {
      all.push_back({f.path, f.changes, false, std::nullopt});
      torn.push_back({f.path, f.changes - 1, f.is_write.back(), std::nullopt});
    }
    disks.push_back(crashed_copy(all, current_names));
    disks.push_back(crashed_copy(torn, current_names));
  }
  return disks;
}

std::shared_ptr<SimFs> SimFs::crashed_copy(const std::vector<Survivor>& survivors, bool current_names) const {
  std::lock_guard lock(mu_);
  auto copy = std::make_shared<SimFs>();
  copy->dirs_ = current_names ? dirs_ : durable_dirs_;
  copy->durable_dirs_ = copy->dirs_;
  for (const auto& [path, node] : current_names ? names_ : durable_names_) {
    if (!copy->dirs_.contains(parent_of(path))) continue;  // Its directory did not survive.
    Bytes bytes = node->durable;
    for (const Survivor& s : survivors) {
      auto current = names_.find(s.path);
      if (current == names_.end() || current->second != node) continue;
      const size_t kept = std::min(s.changes_kept, node->pending.size());
      for (size_t i = 0; i < kept; ++i) {
        if (i == s.lost_write && !node->pending[i].truncate) continue;
        apply(bytes, node->pending[i]);
      }
      if (s.next_torn && kept < node->pending.size() && !node->pending[kept].truncate) {
        Change torn = node->pending[kept];
        torn.data.resize(torn.data.size() / 2);
        apply(bytes, torn);
      }
    }
    auto fresh = std::make_shared<Node>();
    fresh->current = fresh->durable = std::move(bytes);
    copy->names_[path] = fresh;
    copy->durable_names_[path] = fresh;
  }
  return copy;
}

Result<std::unique_ptr<File>> SimFs::open(const std::string& path, OpenMode mode) {
  std::lock_guard lock(mu_);
  auto it = names_.find(path);
  if (it == names_.end()) {
    if (mode != OpenMode::kCreateReadWrite) return make_error(ErrorCode::kNotFound, "no file " + path);
    if (!dirs_.contains(parent_of(path))) return make_error(ErrorCode::kNotFound, "no directory for " + path);
    if (auto s = step("create", path); !s) return tl::unexpected(s.error());
    it = names_.emplace(path, std::make_shared<Node>()).first;
  }
  return std::unique_ptr<File>(new SimFile(*this, it->second, path, mode != OpenMode::kRead));
}

Status SimFs::create_dir(const std::string& path) {
  std::lock_guard lock(mu_);
  if (dirs_.contains(path)) return {};
  if (auto s = step("mkdir", path); !s) return s;
  dirs_.insert(path);
  return {};
}

Result<std::vector<std::string>> SimFs::list_dir(const std::string& path) {
  std::lock_guard lock(mu_);
  if (!dirs_.contains(path)) return make_error(ErrorCode::kNotFound, "no directory " + path);
  std::vector<std::string> out;
  const std::string prefix = path + "/";
  for (const auto& [name, node] : names_) {
    if (name.starts_with(prefix) && name.find('/', prefix.size()) == std::string::npos) out.push_back(name.substr(prefix.size()));
  }
  for (const std::string& dir : dirs_) {
    if (dir.starts_with(prefix) && dir.find('/', prefix.size()) == std::string::npos) out.push_back(dir.substr(prefix.size()));
  }
  return out;
}

Result<bool> SimFs::exists(const std::string& path) {
  std::lock_guard lock(mu_);
  return names_.contains(path) || dirs_.contains(path);
}

Status SimFs::remove(const std::string& path) {
  std::lock_guard lock(mu_);
  if (!names_.contains(path)) return make_error(ErrorCode::kNotFound, "no file " + path);
  if (auto s = step("remove", path); !s) return s;
  names_.erase(path);
  return {};
}

Status SimFs::rename(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  if (dirs_.contains(from)) {
    if (auto s = step("rename", from); !s) return s;
    rename_dir(from, to);
    return {};
  }
  auto it = names_.find(from);
  if (it == names_.end()) return make_error(ErrorCode::kNotFound, "no file " + from);
  if (auto s = step("rename", from); !s) return s;
  names_[to] = it->second;
  names_.erase(from);
  return {};
}

void SimFs::rename_dir(const std::string& from, const std::string& to) {
  const std::string prefix = from + "/";
  auto moved = [&](const std::string& path) { return to + path.substr(from.size()); };
  auto move_names = [&](Names& names) {
    Names kept;
    for (auto& [path, node] : names) kept[path.starts_with(prefix) ? moved(path) : path] = std::move(node);
    names.swap(kept);
  };
  move_names(names_);
  move_names(durable_names_);  // The directory's synced entries travel with it.
  std::set<std::string> dirs;
  for (const std::string& dir : dirs_) dirs.insert(dir == from || dir.starts_with(prefix) ? moved(dir) : dir);
  dirs_.swap(dirs);
  // Its new name is durable once the parent is synced; the old one is not kept.
  std::erase_if(durable_dirs_, [&](const std::string& dir) { return dir == from || dir.starts_with(prefix); });
}

Status SimFs::sync_dir(const std::string& path) {
  std::lock_guard lock(mu_);
  if (auto s = step("sync_dir", path); !s) return s;
  // The directory's entries become durable as they are now.
  std::erase_if(durable_names_, [&](const auto& entry) { return parent_of(entry.first) == path; });
  for (const auto& [name, node] : names_) {
    if (parent_of(name) == path) durable_names_[name] = node;
  }
  std::erase_if(durable_dirs_, [&](const std::string& dir) { return parent_of(dir) == path && !dirs_.contains(dir); });
  for (const std::string& dir : dirs_) {
    if (parent_of(dir) == path) durable_dirs_.insert(dir);
  }
  return {};
}

Result<std::unique_ptr<FileLock>> SimFs::lock(const std::string&) {
  return std::unique_ptr<FileLock>(new FileLock());
}

}  // namespace batpak::testing
