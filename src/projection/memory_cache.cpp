// The no-op cache and the in-memory LRU cache.
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "batpak/projection_cache.hpp"

namespace batpak {
namespace {

class NoCache final : public ProjectionCache {
 public:
  CacheCapabilities capabilities() const override { return {false, true}; }
  Result<std::optional<std::vector<uint8_t>>> get(std::span<const uint8_t>) override {
    return std::optional<std::vector<uint8_t>>();
  }
  Status put(std::span<const uint8_t>, std::span<const uint8_t>) override { return {}; }
  Result<uint64_t> delete_prefix(std::span<const uint8_t>) override { return 0; }
  Status sync() override { return {}; }
};

// Thread safety: one mutex around the map and the recency list.
class MemoryCache final : public ProjectionCache {
 public:
  explicit MemoryCache(uint64_t bytes_max) : bytes_max_(bytes_max) {}

  CacheCapabilities capabilities() const override { return {false, false}; }

  Result<std::optional<std::vector<uint8_t>>> get(std::span<const uint8_t> key) override {
    std::lock_guard lock(mu_);
    auto it = rows_.find(as_string(key));
    if (it == rows_.end()) return std::optional<std::vector<uint8_t>>();
    recency_.splice(recency_.begin(), recency_, it->second.position);
    return std::optional<std::vector<uint8_t>>(it->second.row);
  }

  Status put(std::span<const uint8_t> key, std::span<const uint8_t> row) override {
    std::lock_guard lock(mu_);
    std::string k = as_string(key);
    erase_locked(k);
    const uint64_t bytes = k.size() + row.size();
    if (bytes > bytes_max_) return {};
    while (bytes_used_ + bytes > bytes_max_) {
      const std::string victim = recency_.back();
      erase_locked(victim);
    }
    recency_.push_front(k);
    rows_.emplace(std::move(k), Row{std::vector<uint8_t>(row.begin(), row.end()), recency_.begin()});
    bytes_used_ += bytes;
    return {};
  }

  Result<uint64_t> delete_prefix(std::span<const uint8_t> prefix) override {
    std::lock_guard lock(mu_);
    const std::string p = as_string(prefix);
    std::vector<std::string> doomed;
    for (const auto& [k, row] : rows_) {
      if (k.starts_with(p)) doomed.push_back(k);
    }
    for (const auto& k : doomed) erase_locked(k);
    return doomed.size();
  }

  Status sync() override { return {}; }

 private:
  struct Row {
    std::vector<uint8_t> row;
    std::list<std::string>::iterator position;
  };

  static std::string as_string(std::span<const uint8_t> bytes) {
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }

  void erase_locked(const std::string& key) {  // REQUIRES: mu_ held.
    auto it = rows_.find(key);
    if (it == rows_.end()) return;
    bytes_used_ -= key.size() + it->second.row.size();
    recency_.erase(it->second.position);
    rows_.erase(it);
  }

  const uint64_t bytes_max_;
  std::mutex mu_;
  std::list<std::string> recency_;  // Most recent first.
  std::unordered_map<std::string, Row> rows_;
  uint64_t bytes_used_ = 0;
};

}  // namespace

std::shared_ptr<ProjectionCache> make_no_cache() { return std::make_shared<NoCache>(); }

std::shared_ptr<ProjectionCache> make_memory_cache(uint64_t bytes_max) {
  return std::make_shared<MemoryCache>(bytes_max);
}

}  // namespace batpak
