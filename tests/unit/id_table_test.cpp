// IdTable against std::unordered_map on the same operations: every id inserted is found
// with its sequence, duplicates are refused, absent ids are absent, across growth.
#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

#include "index/id_table.hpp"

namespace batpak::index {
namespace {

EventId random_id(std::mt19937_64& rng) {
  EventId id;
  for (size_t i = 0; i < id.bytes.size(); i += 8) {
    const uint64_t v = rng();
    for (size_t j = 0; j < 8; ++j) id.bytes[i + j] = static_cast<uint8_t>(v >> (8 * j));
  }
  return id;
}

TEST(IdTableTest, AgreesWithAStandardMapThroughGrowth) {
  std::mt19937_64 rng(7);
  IdTable table;
  std::unordered_map<EventId, uint64_t, EventIdHash> model;
  std::vector<EventId> ids;
  for (uint64_t seq = 1; seq <= 50'000; ++seq) {
    // Ids that differ only in their first bytes (UUIDv7 timestamps) as well as random ones.
    EventId id = random_id(rng);
    if (seq % 3 == 0) {
      id = EventId{};
      id.bytes[0] = static_cast<uint8_t>(seq);
      id.bytes[1] = static_cast<uint8_t>(seq >> 8);
      id.bytes[2] = static_cast<uint8_t>(seq >> 16);
    }
    ASSERT_TRUE(table.insert(id, seq));
    model.emplace(id, seq);
    ids.push_back(id);
    if (seq % 1000 == 0) {
      ASSERT_FALSE(table.insert(ids[seq / 2], seq)) << "a duplicate was accepted";
    }
  }
  EXPECT_EQ(table.size(), model.size());
  for (const auto& [id, seq] : model) {
    ASSERT_EQ(table.find(id), seq);
  }
  for (int i = 0; i < 10'000; ++i) {
    const EventId absent = random_id(rng);
    EXPECT_EQ(table.find(absent).has_value(), model.count(absent) > 0);
  }
  table.clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_FALSE(table.find(ids.front()).has_value());
  table.reserve(100);
  EXPECT_TRUE(table.insert(ids.front(), 1));
  EXPECT_EQ(table.find(ids.front()), 1u);
}

}  // namespace
}  // namespace batpak::index
