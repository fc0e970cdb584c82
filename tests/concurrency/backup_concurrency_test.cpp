// Backups while appenders run. Invariant proved here: each copy is a prefix of the source's
// commit order that holds every event acknowledged before its backup() was called, event for
// event equal to the source's, and it verifies; appends go on meanwhile. Runs under
// ThreadSanitizer in CI.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "batpak/batpak.hpp"
#include "support/durability_names.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

const EventKind kKind(0x1001);
constexpr int kAppenders = 3;
constexpr int kBackups = 3;
constexpr int kAppendsMax = 3000;  // Per appender: bounds the run in the fast modes.

// Checks the copy in `dir` against the source: its events are 1 .. `last`, each equal to the
// source's; `last` is at least `acknowledged`.
void expect_prefix_copy(const Store& source, const std::string& dir, uint64_t last, uint64_t acknowledged) {
  EXPECT_GE(last, acknowledged) << "an event acknowledged before the backup is missing";
  StoreOptions options;
  options.access = AccessMode::kReadOnly;
  auto copy = Store::open(dir, options);
  ASSERT_TRUE(copy) << copy.error().to_string();
  EXPECT_EQ((*copy)->stats().last_global_sequence, last);
  std::vector<uint64_t> sequences(last);
  std::iota(sequences.begin(), sequences.end(), 1);
  auto want = source.read_sequences(sequences);
  auto got = (*copy)->read_sequences(sequences);
  ASSERT_TRUE(want) << want.error().to_string();
  ASSERT_TRUE(got) << got.error().to_string();
  for (size_t i = 0; i < sequences.size(); ++i) {
    ASSERT_EQ((*got)[i].header.event_hash, (*want)[i].header.event_hash) << "sequence " << sequences[i];
    ASSERT_EQ((*got)[i].payload, (*want)[i].payload) << "sequence " << sequences[i];
  }
  auto verified = (*copy)->verify();
  ASSERT_TRUE(verified) << verified.error().to_string();
  EXPECT_TRUE(verified->ok()) << verified->damage->reason;
}

class BackupConcurrency : public ::testing::TestWithParam<Durability> {};

TEST_P(BackupConcurrency, EachCopyIsAPrefixWithEveryEarlierAcknowledgement) {
  TempDir dir;
  StoreOptions options;
  options.durability = GetParam();
  options.segment_bytes_max = 64 << 10;  // Rotations during the backups.
  auto opened = Store::open(dir.sub("store"), options);
  ASSERT_TRUE(opened) << opened.error().to_string();
  Store& store = **opened;

  std::atomic<bool> done{false};
  std::atomic<uint64_t> acknowledged{0};  // The highest global sequence an append returned.
  std::atomic<int> failures{0};
  std::vector<std::thread> appenders;
  for (int t = 0; t < kAppenders; ++t) {
    appenders.emplace_back([&, t] {
      const Coordinate coordinate = Coordinate::make("entity" + std::to_string(t), "s").value();
      for (int i = 0; i < kAppendsMax && !done.load(); ++i) {
        auto r = store.append(coordinate, kKind, std::vector<uint8_t>(150, static_cast<uint8_t>(t)));
        if (!r) {
          failures.fetch_add(1);
          return;
        }
        uint64_t seen = acknowledged.load();
        while (seen < r->global_sequence && !acknowledged.compare_exchange_weak(seen, r->global_sequence)) {
        }
      }
    });
  }
  std::vector<std::pair<uint64_t, uint64_t>> copies;  // (last sequence, acknowledged before the call).
  std::vector<Error> errors;
  for (int b = 0; b < kBackups && errors.empty(); ++b) {
    const auto wanted = static_cast<uint64_t>(50 * (b + 1));
    while (acknowledged.load() < wanted && failures.load() == 0) std::this_thread::yield();
    const uint64_t before = acknowledged.load();
    auto report = store.backup(dir.sub("copy" + std::to_string(b)));
    if (!report) errors.push_back(report.error());
    if (report) copies.emplace_back(report->last_sequence, before);
  }
  done.store(true);
  for (std::thread& t : appenders) t.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_TRUE(errors.empty()) << errors.front().to_string();
  for (int b = 0; b < kBackups; ++b) {
    expect_prefix_copy(store, dir.sub("copy" + std::to_string(b)), copies[b].first, copies[b].second);
  }
}

INSTANTIATE_TEST_SUITE_P(Durability, BackupConcurrency,
                         ::testing::Values(Durability::kSync, Durability::kBuffered, Durability::kAsync),
                         durability_name);

}  // namespace
}  // namespace batpak::testing
