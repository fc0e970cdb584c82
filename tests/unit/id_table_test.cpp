// IdTable against std::unordered_map on the same operations: every id inserted is found
// with its sequence, duplicates are refused, absent ids are absent, across growth.
#include <gtest/gtest.h>

#include <cstring>
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
  std::vector<EventId> ids;  // ids[seq - 1]: what the table reads back, as an index's rows.
  IdTable table([&ids](uint64_t seq) -> const EventId& { return ids.at(seq - 1); });
  std::unordered_map<EventId, uint64_t, EventIdHash> model;
  for (uint64_t seq = 1; seq <= 50'000; ++seq) {
    // Ids that differ only in their first bytes (UUIDv7 timestamps) as well as random ones.
    EventId id = random_id(rng);
    if (seq % 3 == 0) {
      id = EventId{};
      id.bytes[0] = static_cast<uint8_t>(seq);
      id.bytes[1] = static_cast<uint8_t>(seq >> 8);
      id.bytes[2] = static_cast<uint8_t>(seq >> 16);
    }
    ids.push_back(id);
    ASSERT_TRUE(table.insert(id, seq));
    model.emplace(id, seq);
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
  ids.resize(1);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_FALSE(table.find(ids.front()).has_value());
  table.reserve(100);
  EXPECT_TRUE(table.insert(ids.front(), 1));
  EXPECT_EQ(table.find(ids.front()), 1u);
}

// An id whose EventIdHash is exactly `hash`, for a given first half: the hash is a bijection of
// the second half, inverted here step by step.
EventId id_with_hash(uint64_t hash, uint64_t hi) {
  const uint64_t mixed = hash ^ (hash >> 31) ^ (hash >> 62);  // Undoes x ^ (x >> 31).
  uint64_t inverse = 0xBF58476D1CE4E5B9ull;                   // Newton: the odd multiplier's inverse.
  for (int i = 0; i < 6; ++i) inverse *= 2 - 0xBF58476D1CE4E5B9ull * inverse;
  const uint64_t lo = (mixed * inverse) ^ (hi * 0x9E3779B97F4A7C15ull);
  EventId id;
  std::memcpy(id.bytes.data(), &hi, 8);
  std::memcpy(id.bytes.data() + 8, &lo, 8);
  return id;
}

// A slot keeps only part of its id's hash: ids whose whole hash is equal must still be told
// apart, by the ids read back through id_of.
TEST(IdTableTest, IdsWithTheSameHashAreToldApartByTheirRows) {
  std::vector<EventId> ids;
  IdTable table([&ids](uint64_t seq) -> const EventId& { return ids.at(seq - 1); });
  for (uint64_t hi = 1; hi <= 40; ++hi) ids.push_back(id_with_hash(0x0123456789abcdefull, hi));
  for (size_t i = 1; i < ids.size(); ++i) ASSERT_EQ(EventIdHash{}(ids[i]), EventIdHash{}(ids[0])) << i;
  for (uint64_t seq = 1; seq <= 30; ++seq) ASSERT_TRUE(table.insert(ids[seq - 1], seq)) << seq;
  for (uint64_t seq = 1; seq <= 30; ++seq) {
    EXPECT_EQ(table.find(ids[seq - 1]), seq);
    EXPECT_FALSE(table.insert(ids[seq - 1], seq)) << "a duplicate was accepted";
  }
  for (size_t i = 30; i < ids.size(); ++i) EXPECT_FALSE(table.find(ids[i]).has_value()) << i;
}

}  // namespace
}  // namespace batpak::index
