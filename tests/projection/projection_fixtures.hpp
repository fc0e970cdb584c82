// Projections and payloads shared by the projection tests.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "batpak/batpak.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {

struct ItemAdded {
  static constexpr EventKind kKind{0x1001};
  std::string sku;
  int64_t quantity = 0;
  MSGPACK_DEFINE_MAP(sku, quantity)
};

inline constexpr EventKind kNoteKind{0x1002};  // Irrelevant to the projections below.

// Sums quantities through the typed lane. Incremental.
struct TypedTotal {
  struct State {
    int64_t total = 0;
    int64_t items = 0;
    MSGPACK_DEFINE_MAP(total, items)
    bool operator==(const State&) const = default;
  };
  static constexpr std::string_view kName = "typed-total";
  static constexpr uint64_t kSchemaVersion = 1;
  static constexpr bool kSupportsIncremental = true;
  static std::vector<EventKind> relevant_kinds() { return {ItemAdded::kKind}; }
  static Status apply(State& state, const Event& event) {
    auto item = decode_event<ItemAdded>(event);
    if (!item) return tl::unexpected(item.error());
    state.total += item->quantity;
    state.items += 1;
    return {};
  }
};

// The same fold through the JSON lane.
struct JsonTotal {
  using State = TypedTotal::State;
  static constexpr std::string_view kName = "json-total";
  static constexpr uint64_t kSchemaVersion = 1;
  static constexpr bool kSupportsIncremental = true;
  static std::vector<EventKind> relevant_kinds() { return {ItemAdded::kKind}; }
  static Status apply(State& state, const Event& event) {
    auto value = payload_to_json(event.payload);
    if (!value) return tl::unexpected(value.error());
    state.total += (*value)["quantity"].get<int64_t>();
    state.items += 1;
    return {};
  }
};

// Like TypedTotal but without incremental apply, so every stale row means a full replay.
struct FullOnlyTotal : TypedTotal {
  static constexpr std::string_view kName = "full-only-total";
  static constexpr bool kSupportsIncremental = false;
};

// A clock the test moves by hand.
class ManualClock final : public Clock {
 public:
  int64_t now_us() override { return now_us_.load(); }
  void advance_ms(int64_t ms) { now_us_ += ms * 1000; }

 private:
  std::atomic<int64_t> now_us_{1'800'000'000'000'000};
};

// Counts calls and can be told to fail, wrapping a memory cache.
class FlakyCache final : public ProjectionCache {
 public:
  CacheCapabilities capabilities() const override { return {advertise_prefetch.load(), false}; }
  Status prefetch(std::span<const uint8_t> key) override {
    std::lock_guard lock(mu_);
    prefetched.emplace_back(key.begin(), key.end());
    gets_before_prefetch.push_back(gets.load());
    if (fail_prefetch) return make_error(ErrorCode::kIo, "injected prefetch failure");
    return {};
  }
  Result<std::optional<std::vector<uint8_t>>> get(std::span<const uint8_t> key) override {
    ++gets;
    if (fail_get) return make_error(ErrorCode::kIo, "injected get failure");
    return inner_->get(key);
  }
  Status put(std::span<const uint8_t> key, std::span<const uint8_t> row) override {
    ++puts;
    if (fail_put) return make_error(ErrorCode::kIo, "injected put failure");
    return inner_->put(key, row);
  }
  Result<uint64_t> delete_prefix(std::span<const uint8_t> prefix) override {
    return inner_->delete_prefix(prefix);
  }
  Status sync() override { return {}; }

  std::atomic<int> gets{0};
  std::atomic<int> puts{0};
  std::atomic<bool> fail_get{false};
  std::atomic<bool> fail_put{false};
  std::atomic<bool> advertise_prefetch{false};
  std::atomic<bool> fail_prefetch{false};
  // Each prefetch's key, and how many gets had been made before it (under mu_).
  std::mutex mu_;
  std::vector<std::vector<uint8_t>> prefetched;
  std::vector<int> gets_before_prefetch;

 private:
  std::shared_ptr<ProjectionCache> inner_ = make_memory_cache(1 << 20);
};

// A store in a temporary directory, on a ManualClock, with helpers that append ItemAdded
// and irrelevant note events.
class ProjectionStoreTest : public ::testing::Test {
 protected:
  // Opens (or reopens) the store with `options` and the test's clock.
  void open_store(StoreOptions options) {
    options.clock = clock_;
    auto opened = Store::open(dir_.path(), options);
    ASSERT_TRUE(opened) << opened.error().to_string();
    store_ = std::move(*opened);
  }
  void add(const std::string& entity, int64_t quantity) {
    auto c = Coordinate::make(entity, "test");
    ASSERT_TRUE(store_->append(*c, ItemAdded{"sku", quantity}));
  }
  void note(const std::string& entity, const std::string& text = "1") {
    auto c = Coordinate::make(entity, "test");
    ASSERT_TRUE(store_->append(*c, kNoteKind, json_to_payload({{"note", text}})));
  }

  TempDir dir_;
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  std::unique_ptr<Store> store_;
};

}  // namespace batpak::testing
