// Bounded projection states (BoundedState: kStateEntriesMax, state_entries). Invariants proved
// here: a fold whose state passes its bound fails with kStateBoundExceeded at the event that
// took it there (no later event is applied), on every path (full replay, incremental apply,
// fused, evidence); a state past the bound is never cached, and a cached row past it (folded
// under a looser bound) is never served; a state at the bound is fine.
#include <gtest/gtest.h>

#include <map>

#include "projection/projection_fixtures.hpp"
#include "support/assertions.hpp"

namespace batpak::testing {
namespace {

int g_applies = 0;  // apply() calls of SkusSeen and SkusSeenLoose, reset by each test.

// The quantity added per SKU, bounded to `kMax` SKUs.
template <uint64_t kMax>
struct SkusSeenUpTo {
  struct State {
    std::map<std::string, int64_t> by_sku;
    MSGPACK_DEFINE_MAP(by_sku)
  };
  static constexpr std::string_view kName = "skus-seen";
  static constexpr uint64_t kSchemaVersion = 1;
  static constexpr bool kSupportsIncremental = true;
  static constexpr uint64_t kStateEntriesMax = kMax;
  static std::vector<EventKind> relevant_kinds() { return {ItemAdded::kKind}; }
  static uint64_t state_entries(const State& state) { return state.by_sku.size(); }
  static Status apply(State& state, const Event& event) {
    ++g_applies;
    auto item = decode_event<ItemAdded>(event);
    if (!item) return tl::unexpected(item.error());
    state.by_sku[item->sku] += item->quantity;
    return {};
  }
};
using SkusSeen = SkusSeenUpTo<3>;
// The same projection (same name, schema and kinds: the same cache rows) with a looser bound.
using SkusSeenLoose = SkusSeenUpTo<100>;
static_assert(BoundedState<SkusSeen>);
static_assert(!BoundedState<TypedTotal>);

class StateBound : public ProjectionStoreTest {
 protected:
  void SetUp() override { g_applies = 0; }
  void open_with(std::shared_ptr<ProjectionCache> cache) {
    StoreOptions options;
    options.projection_cache = std::move(cache);
    open_store(std::move(options));
  }
  void add_skus(std::initializer_list<const char*> skus) {
    const auto c = Coordinate::make("cart:1", "test");
    for (const char* sku : skus) ASSERT_TRUE(store_->append(*c, ItemAdded{sku, 1}));
  }
  // The watermark of the cache row of SkusSeen for cart:1; 0 when there is none.
  uint64_t cached_watermark() {
    const auto kinds = SkusSeen::relevant_kinds();
    const auto key = projection_cache_key(SkusSeen::kName, SkusSeen::kSchemaVersion, kinds, "cart:1");
    auto bytes = store_->projection_cache().get(key);
    EXPECT_TRUE(bytes) << bytes.error().to_string();
    if (!bytes || !*bytes) return 0;
    auto row = decode_cache_row(key, **bytes);
    EXPECT_TRUE(row) << row.error().to_string();
    return row ? row->watermark : 0;
  }
};

TEST_F(StateBound, AStateAtItsBoundProjectsAndOnePastItFailsAtTheEventThatPassedIt) {
  open_with(make_no_cache());
  add_skus({"a", "b", "c", "a"});
  BATPAK_ASSERT_OK_AND_ASSIGN(at_bound, store_->project<SkusSeen>("cart:1"));
  ASSERT_TRUE(at_bound.state);
  EXPECT_EQ(at_bound.state->by_sku.size(), 3u);
  EXPECT_EQ(at_bound.state->by_sku.at("a"), 2);

  add_skus({"d", "e", "f"});
  g_applies = 0;
  auto past = store_->project<SkusSeen>("cart:1");
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().code, ErrorCode::kStateBoundExceeded);
  EXPECT_NE(past.error().message.find("'skus-seen' state holds 4 entries, past its bound of 3"), std::string::npos)
      << past.error().message;
  EXPECT_EQ(g_applies, 5) << "a, b, c, a, d: the fold stops at d";
  BATPAK_ASSERT_OK_AND_ASSIGN(loose, store_->project<SkusSeenLoose>("cart:1"));
  EXPECT_EQ(loose.state->by_sku.size(), 6u);
}

TEST_F(StateBound, AStatePastTheBoundIsNeverCachedAndACachedOneIsNeverServed) {
  open_with(make_memory_cache(1 << 20));
  add_skus({"a", "b", "c"});
  BATPAK_ASSERT_OK_AND_ASSIGN(first, store_->project<SkusSeen>("cart:1"));
  EXPECT_EQ(first.observation.cache_status, CacheStatus::kMiss);
  EXPECT_EQ(cached_watermark(), 3u);

  add_skus({"d"});  // The incremental apply from the row passes the bound.
  BATPAK_EXPECT_ERROR(store_->project<SkusSeen>("cart:1"), ErrorCode::kStateBoundExceeded);
  EXPECT_EQ(cached_watermark(), 3u) << "the row past the bound was not written";

  // Folded under the looser bound, the row holds 4 SKUs at the current watermark: a fresh hit
  // for SkusSeen, which refuses it.
  BATPAK_ASSERT_OK_AND_ASSIGN(loose, store_->project<SkusSeenLoose>("cart:1"));
  ASSERT_EQ(loose.state->by_sku.size(), 4u);
  ASSERT_EQ(cached_watermark(), 4u);
  g_applies = 0;
  BATPAK_EXPECT_ERROR(store_->project<SkusSeen>("cart:1"), ErrorCode::kStateBoundExceeded);
  EXPECT_EQ(g_applies, 0) << "refused as read from the cache, not refolded";
}

TEST_F(StateBound, FusedAndEvidenceRunsFailTheSameWay) {
  open_with(make_no_cache());
  add_skus({"a", "b", "c", "d"});
  auto fused = store_->project_fused<TypedTotal, SkusSeen>("cart:1");
  ASSERT_FALSE(fused);
  EXPECT_EQ(fused.error().code, ErrorCode::kStateBoundExceeded);

  auto run = project_run_evidence<SkusSeen>(*store_, "cart:1");
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.error->code, ErrorCode::kStateBoundExceeded);
  EXPECT_FALSE(run.state);
}

}  // namespace
}  // namespace batpak::testing
