// Helpers shared by the store integration tests.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "batpak/batpak.hpp"
#include "support/assertions.hpp"
#include "support/temp_dir.hpp"

namespace batpak::store_test {

inline Coordinate coord(std::string_view entity, std::string_view scope = "s") {
  auto c = Coordinate::make(entity, scope);
  EXPECT_TRUE(c.has_value()) << entity;
  return *c;
}

inline std::vector<uint8_t> bytes(std::string_view text) {
  return {text.begin(), text.end()};
}

inline constexpr EventKind kKindA{0x1001};
inline constexpr EventKind kKindB{0x2002};

// A clock the test moves by hand. Thread safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_us) : now_(start_us) {}
  int64_t now_us() override { return now_.load(); }
  void set_us(int64_t us) { now_.store(us); }
  void advance_ms(int64_t ms) { now_.fetch_add(ms * 1000); }

 private:
  std::atomic<int64_t> now_;
};

// Segment files in `dir`, sorted.
inline std::vector<std::string> segment_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".seg") out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Fields every reader must agree on.
inline void expect_same_event(const Event& a, const Event& b) {
  EXPECT_EQ(a.coordinate, b.coordinate);
  EXPECT_EQ(a.header.event_id, b.header.event_id);
  EXPECT_EQ(a.header.correlation_id, b.header.correlation_id);
  EXPECT_EQ(a.header.causation_id, b.header.causation_id);
  EXPECT_EQ(a.header.global_sequence, b.header.global_sequence);
  EXPECT_EQ(a.header.clock, b.header.clock);
  EXPECT_EQ(a.header.wall_ms, b.header.wall_ms);
  EXPECT_EQ(a.header.timestamp_us, b.header.timestamp_us);
  EXPECT_EQ(a.header.kind, b.header.kind);
  EXPECT_EQ(a.header.flags, b.header.flags);
  EXPECT_EQ(a.header.payload_version, b.header.payload_version);
  EXPECT_EQ(a.header.content_hash, b.header.content_hash);
  EXPECT_EQ(a.header.prev_hash, b.header.prev_hash);
  EXPECT_EQ(a.header.event_hash, b.header.event_hash);
  EXPECT_EQ(a.payload, b.payload);
}

// A receipt and the event it describes agree field by field.
inline void expect_receipt_matches(const Receipt& r, const Event& e) {
  EXPECT_EQ(r.event_id, e.header.event_id);
  EXPECT_EQ(r.correlation_id, e.header.correlation_id);
  EXPECT_EQ(r.causation_id, e.header.causation_id);
  EXPECT_EQ(r.global_sequence, e.header.global_sequence);
  EXPECT_EQ(r.entity, e.coordinate.entity());
  EXPECT_EQ(r.scope, e.coordinate.scope());
  EXPECT_EQ(r.kind, e.header.kind);
  EXPECT_EQ(r.clock, e.header.clock);
  EXPECT_EQ(r.wall_ms, e.header.wall_ms);
  EXPECT_EQ(r.payload_version, e.header.payload_version);
  EXPECT_EQ(r.content_hash, e.header.content_hash);
  EXPECT_EQ(r.prev_hash, e.header.prev_hash);
  EXPECT_EQ(r.event_hash, e.header.event_hash);
}

class StoreTest : public ::testing::Test {
 protected:
  std::string dir() const { return tmp_.sub("store"); }

  std::unique_ptr<Store> open(StoreOptions options = {}) {
    auto store = Store::open(dir(), std::move(options));
    EXPECT_TRUE(store.has_value()) << store.error().to_string();
    return store ? std::move(*store) : nullptr;
  }

  testing::TempDir tmp_;
};

}  // namespace batpak::store_test
