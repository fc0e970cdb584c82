// util::PageArray and util::ChunkedArray (src/util/page_array.hpp): the index's large tables.
#include "util/page_array.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace batpak::util {
namespace {

struct Pair {
  uint64_t key;
  uint64_t value;
};

// Invariant: a PageArray starts as all-zero bytes, below and above the size where it is
// mapped instead of calloc'ed.
TEST(PageArray, StartsZeroedWhetherAllocatedOrMapped) {
  for (size_t count : {size_t{1}, size_t{1000}, kPageArrayMappedBytesMin / sizeof(Pair) + 1, size_t{1} << 20}) {
    SCOPED_TRACE(count);
    PageArray<Pair> array(count);
    ASSERT_EQ(array.size(), count);
    size_t nonzero = 0;
    for (const Pair& p : array) nonzero += (p.key != 0 || p.value != 0);
    EXPECT_EQ(nonzero, 0u);
    array[count - 1] = Pair{7, 8};  // Writable to the last element.
    EXPECT_EQ(array[count - 1].value, 8u);
  }
}

TEST(PageArray, MoveTransfersOwnershipAndEmptiesTheSource) {
  PageArray<Pair> a(kPageArrayMappedBytesMin / sizeof(Pair) * 2);
  a[5] = Pair{1, 2};
  PageArray<Pair> b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from state is specified.
  EXPECT_EQ(b[5].value, 2u);
  PageArray<Pair> c(3);
  c = std::move(b);
  EXPECT_EQ(c[5].key, 1u);
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
}

// Invariant: growing a ChunkedArray (the first chunk doubling, then whole chunks added)
// keeps every value already stored, at its index.
TEST(ChunkedArray, GrowthKeepsEveryValueAtItsIndex) {
  ChunkedArray<Pair> array;
  const size_t count = ChunkedArray<Pair>::kChunkSize * 2 + 123;
  for (size_t i = 0; i < count; ++i) {
    array.push_back(Pair{i, i * 3});
    ASSERT_EQ(array.size(), i + 1);
  }
  size_t wrong = 0;
  for (size_t i = 0; i < count; ++i) wrong += (array[i].key != i || array[i].value != i * 3);
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(array[count - 1].key, count - 1);
}

TEST(ChunkedArray, ReserveThenFillAndClearStartsOver) {
  ChunkedArray<Pair> array;
  array.push_back(Pair{1, 1});
  array.reserve(ChunkedArray<Pair>::kChunkSize + 10);
  EXPECT_EQ(array.size(), 1u);
  EXPECT_EQ(array[0].key, 1u) << "reserve keeps what is stored";
  for (uint64_t i = 1; i < ChunkedArray<Pair>::kChunkSize + 10; ++i) array.push_back(Pair{i, 0});
  EXPECT_EQ(array[ChunkedArray<Pair>::kChunkSize].key, ChunkedArray<Pair>::kChunkSize);
  array.clear();
  EXPECT_EQ(array.size(), 0u);
  array.push_back(Pair{9, 9});
  EXPECT_EQ(array[0].key, 9u);
}

}  // namespace
}  // namespace batpak::util
