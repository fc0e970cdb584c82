// Checks shared by the crash, corruption and concurrency suites: the invariants every
// committed log must satisfy, seen through the public API only.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "batpak/batpak.hpp"
#include "support/assertions.hpp"

namespace batpak::testing {


inline Coordinate coord(std::string_view entity, std::string_view scope = "s") {
  auto c = Coordinate::make(entity, scope);
  EXPECT_TRUE(c.has_value()) << entity;
  return *c;
}

// Waits, up to 20 s, until `store` has written at least `count` index checkpoints in the
// background (they are written on their own thread), and returns how many it has.
inline uint64_t wait_for_background_checkpoints(const Store& store, uint64_t count) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (store.stats().index_checkpoints_written < count && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return store.stats().index_checkpoints_written;
}

inline std::vector<uint8_t> bytes(std::string_view text) { return {text.begin(), text.end()}; }
inline std::string text(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

// Invariant: the committed log is global sequences 1..N without gaps, in order; every
// entity's clocks are 1..k without gaps; each event's prev_hash is its entity's previous
// event_hash (zero for the first); wall_ms is monotone per entity. Returns the events.
inline std::vector<Event> expect_log_invariants(const Store& store) {
  auto all = store.query(Region::all());
  EXPECT_TRUE(all.has_value()) << all.error().to_string();
  if (!all) return {};
  struct Head {
    uint32_t clock = 0;
    Hash32 hash;
    uint64_t wall_ms = 0;
  };
  std::map<std::string, Head> heads;
  for (size_t i = 0; i < all->size(); ++i) {
    const Event& e = (*all)[i];
    EXPECT_EQ(e.header.global_sequence, i + 1) << "global sequences have a gap or are out of order";
    Head& head = heads[e.coordinate.entity()];
    EXPECT_EQ(e.header.clock, head.clock + 1) << "entity " << e.coordinate.entity() << " clock gap";
    EXPECT_EQ(e.header.prev_hash, head.hash) << "entity " << e.coordinate.entity() << " chain broken";
    EXPECT_GE(e.header.wall_ms, head.wall_ms);
    head = Head{e.header.clock, e.header.event_hash, e.header.wall_ms};
  }
  const StoreStats stats = store.stats();
  EXPECT_EQ(stats.event_count, all->size());
  EXPECT_EQ(stats.last_global_sequence, all->size());
  EXPECT_EQ(stats.entity_count, heads.size());
  for (const auto& [entity, head] : heads) EXPECT_EQ(store.entity_generation(entity), head.clock);
  return std::move(*all);
}

// Invariant: verify() re-reads every frame and link and finds no damage.
inline void expect_verify_ok(const Store& store, uint64_t expected_events) {
  auto report = store.verify();
  ASSERT_TRUE(report.has_value()) << report.error().to_string();
  EXPECT_TRUE(report->ok()) << report->damage->file << "@" << report->damage->offset << ": "
                            << report->damage->reason;
  EXPECT_EQ(report->events_checked, expected_events);
}

// Segment file paths of a store directory, ascending (none if the directory is missing).
inline std::vector<std::string> segment_paths(const std::string& dir) {
  std::vector<std::string> out;
  if (!std::filesystem::exists(dir)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".seg") out.push_back(entry.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Saved torn tails ("<segment>.seg.torn-<offset>") in a store directory.
inline std::vector<std::string> torn_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().find(".seg.torn-") != std::string::npos) {
      out.push_back(entry.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace batpak::testing
