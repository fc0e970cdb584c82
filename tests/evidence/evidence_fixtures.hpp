// A store fixture for the evidence and watcher tests: a fixed clock, a chosen cache, and
// appends with idempotency keys so that every id, clock and wall time is deterministic.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "projection/projection_fixtures.hpp"
#include "support/assertions.hpp"

namespace batpak::testing {

// TypedTotal, but apply() fails on a negative quantity: a projection that can fail.
struct RejectsNegative {
  using State = TypedTotal::State;
  static constexpr std::string_view kName = "rejects-negative";
  static constexpr uint64_t kSchemaVersion = 3;
  static constexpr bool kSupportsIncremental = true;
  static std::vector<EventKind> relevant_kinds() { return {ItemAdded::kKind}; }
  static Status apply(State& state, const Event& event) {
    auto item = decode_event<ItemAdded>(event);
    if (!item) return tl::unexpected(item.error());
    if (item->quantity < 0) return make_error(ErrorCode::kInvalidArgument, "negative quantity");
    state.total += item->quantity;
    state.items += 1;
    return {};
  }
};

// Counts every event of the entity (no relevant kinds declared = all kinds).
struct CountAll {
  struct State {
    int64_t events = 0;
    MSGPACK_DEFINE_MAP(events)
  };
  static constexpr std::string_view kName = "count-all";
  static constexpr uint64_t kSchemaVersion = 1;
  static constexpr bool kSupportsIncremental = true;
  static std::vector<EventKind> relevant_kinds() { return {}; }
  static Status apply(State& state, const Event&) {
    state.events += 1;
    return {};
  }
};

class EvidenceStore : public ::testing::Test {
 protected:
  void open_with(std::shared_ptr<ProjectionCache> cache) {
    if (store_) {
      ASSERT_TRUE(store_->close());
    }
    store_.reset();
    StoreOptions options;
    options.clock = clock_;
    options.projection_cache = std::move(cache);
    auto opened = Store::open(dir_.sub("store"), options);
    ASSERT_TRUE(opened) << opened.error().to_string();
    store_ = std::move(*opened);
  }
  AppendOptions keyed() {
    AppendOptions options;
    options.idempotency_key = "key-" + std::to_string(++appends_);
    return options;
  }
  void add(const std::string& entity, int64_t quantity) {
    auto c = Coordinate::make(entity, "test");
    BATPAK_ASSERT_OK(store_->append(*c, ItemAdded{"sku", quantity}, keyed()));
  }
  void note(const std::string& entity) {
    auto c = Coordinate::make(entity, "test");
    BATPAK_ASSERT_OK(store_->append(*c, kNoteKind, json_to_payload({{"note", 1}}), keyed()));
  }

  TempDir dir_;
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  std::unique_ptr<Store> store_;
  int appends_ = 0;
};

}  // namespace batpak::testing
