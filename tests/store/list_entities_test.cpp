// Store::list_entities. Invariants proved here: a listing holds each entity of the namespace
// once, in name order, with its generation and last global sequence; paging with `after`
// neither repeats nor skips one; a namespace never includes a name that merely starts like it
// ("order7" is not in "order"); an entity whose history was dropped stays listed.
#include <algorithm>

#include "store/store_fixtures.hpp"

namespace batpak::store_test {
namespace {

class ListEntities : public StoreTest {
 protected:
  void SetUp() override {
    store_ = open();
    ASSERT_NE(store_, nullptr);
  }
  uint64_t append(const std::string& entity) {
    auto r = store_->append(coord(entity), kKindA, bytes(entity));
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? r->global_sequence : 0;
  }
  std::vector<std::string> names(std::string_view prefix, std::string_view after = "", size_t limit = 100) {
    auto listed = store_->list_entities(prefix, after, limit);
    EXPECT_TRUE(listed) << listed.error().to_string();
    std::vector<std::string> out;
    if (listed) {
      for (const EntitySummary& e : *listed) out.push_back(e.entity);
    }
    return out;
  }
  std::unique_ptr<Store> store_;
};

TEST_F(ListEntities, ListsEachEntityOnceInNameOrderWithItsGenerationAndLastSequence) {
  append("order:2");
  append("user:1");
  append("order:10");
  append("order:2");
  const uint64_t last = append("order:2");
  auto listed = store_->list_entities("", "", 100);
  ASSERT_TRUE(listed) << listed.error().to_string();
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0], (EntitySummary{"order:10", 1, 3}));
  EXPECT_EQ((*listed)[1], (EntitySummary{"order:2", 3, last}));
  EXPECT_EQ((*listed)[2], (EntitySummary{"user:1", 1, 2}));
}

TEST_F(ListEntities, ANamespaceHoldsItselfAndItsChildrenButNotNamesThatOnlyStartLikeIt) {
  for (const char* entity : {"order", "order7", "order:1", "order:1:line:2", "order0", "orders", "ordea", "user"}) {
    append(entity);
  }
  EXPECT_EQ(names("order"), (std::vector<std::string>{"order", "order:1", "order:1:line:2"}));
  EXPECT_EQ(names("order:1"), (std::vector<std::string>{"order:1", "order:1:line:2"}));
  EXPECT_EQ(names("ord"), std::vector<std::string>{});
  EXPECT_EQ(names("").size(), 8u);
}

TEST_F(ListEntities, PagesWithAfterNeitherRepeatNorSkip) {
  std::vector<std::string> all;
  for (int i = 0; i < 25; ++i) {
    const std::string entity = "user:" + std::to_string(1000 + i * 7);
    append(entity);
    all.push_back(entity);
  }
  append("other");
  std::sort(all.begin(), all.end());
  std::vector<std::string> paged;
  std::string after;
  for (std::vector<std::string> page = names("user", after, 4); !page.empty(); page = names("user", after, 4)) {
    EXPECT_LE(page.size(), 4u);
    paged.insert(paged.end(), page.begin(), page.end());
    after = page.back();
  }
  EXPECT_EQ(paged, all);
  EXPECT_EQ(names("user", "a", 2), (std::vector<std::string>{all[0], all[1]})) << "`after` before the namespace";
  EXPECT_EQ(names("user", "z", 2), std::vector<std::string>{}) << "`after` past the namespace";
  EXPECT_EQ(names("user", "", 0), std::vector<std::string>{});
}

TEST_F(ListEntities, ABadPrefixIsRefusedAndAClosedStoreSaysSo) {
  for (const std::string& bad : {std::string("a\nb"), std::string(kCoordinateComponentBytesMax + 1, 'x')}) {
    auto refused = store_->list_entities(bad, "", 10);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  }
  BATPAK_ASSERT_OK(store_->close());
  BATPAK_EXPECT_ERROR(store_->list_entities("", "", 10), ErrorCode::kClosed);
}

TEST_F(ListEntities, AnEntityWhoseHistoryWasDroppedStaysListedWithoutALastSequence) {
  store_.reset();
  StoreOptions small;
  small.segment_bytes_max = 4096;
  store_ = open(small);
  ASSERT_NE(store_, nullptr);
  append("early");
  for (int i = 0; i < 60; ++i) append("late:" + std::to_string(i % 3));
  BATPAK_ASSERT_OK(store_->close());
  BATPAK_ASSERT_OK_AND_ASSIGN(report, Store::drop_history(dir(), 50));
  ASSERT_GT(report.first_sequence, 1u);
  store_ = open(small);
  ASSERT_NE(store_, nullptr);
  auto listed = store_->list_entities("early", "", 10);
  ASSERT_TRUE(listed) << listed.error().to_string();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front(), (EntitySummary{"early", 1, 0}));
}

}  // namespace
}  // namespace batpak::store_test
