// The manifest under I/O errors and power cuts (SimFs). Invariants proved here: an I/O error
// in any call that replaces the manifest fails the append that rotated (or the open that
// made the first segment) and poisons the store, or, at close, does not fail the close; and
// the next open holds every acknowledged event with a manifest naming the newest segment; a power cut at any call of a workload
// that rotates leaves a disk that opens (under durable or current names) with every event
// acknowledged before it, so the manifest never names a segment the cut took away. A
// read-write session that appends nothing does not rewrite the manifest.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "batpak/batpak.hpp"
#include "segment/manifest.hpp"
#include "segment/segment_files.hpp"
#include "support/sim_fs.hpp"

namespace batpak::testing {
namespace {

const EventKind kKind(0x1001);
const std::string kDir = "/sim/store";
constexpr int kAppends = 40;  // 300-byte payloads in 4 KiB segments: several rotations.

StoreOptions options_on(std::shared_ptr<Fs> fs) {
  StoreOptions options;
  options.fs = std::move(fs);
  options.segment_bytes_max = 4096;
  options.preallocate_bytes = 0;  // Megabytes of zeros per segment would only slow SimFs down.
  return options;
}

struct Outcome {
  bool open_failed = false;
  bool poisoned = false;  // The append after a failed one (with the disk working) failed too.
  bool closed_ok = false;  // No append failed and close() returned success.
};

// Opens a kSync store on `fs`, appends until an append fails, and closes; the acknowledged
// appends.
std::vector<Receipt> run_until_failure(const std::shared_ptr<SimFs>& fs, Outcome& outcome) {
  std::vector<Receipt> acked;
  outcome = Outcome{};
  auto store = Store::open(kDir, options_on(fs));
  if (!store) {
    outcome.open_failed = true;
    return acked;
  }
  for (int i = 0; i < kAppends; ++i) {
    auto r = (*store)->append(Coordinate::make("e" + std::to_string(i % 3), "s").value(), kKind,
                              std::vector<uint8_t>(300, static_cast<uint8_t>(i)));
    if (!r) {
      fs->fail_at(0, false);
      outcome.poisoned = !(*store)->append(Coordinate::make("after", "s").value(), kKind, std::vector<uint8_t>{1});
      return acked;
    }
    acked.push_back(*r);
  }
  outcome.closed_ok = (*store)->close().has_value();
  return acked;
}

// Opens `disk` and checks it holds every receipt of `acked`; returns the open store's
// segment count (0 on failure).
uint64_t expect_opens_with(const std::shared_ptr<Fs>& disk, const std::vector<Receipt>& acked) {
  auto store = Store::open(kDir, options_on(disk));
  EXPECT_TRUE(store) << store.error().to_string();
  if (!store) return 0;
  for (const Receipt& r : acked) {
    EXPECT_TRUE((*store)->get(r.event_id)) << "acknowledged event " << r.global_sequence << " is lost";
  }
  return (*store)->stats().segment_count;
}

uint64_t workload_calls() {
  auto dry = std::make_shared<SimFs>();
  Outcome outcome;
  const std::vector<Receipt> acked = run_until_failure(dry, outcome);
  EXPECT_TRUE(outcome.closed_ok);
  EXPECT_EQ(acked.size(), static_cast<size_t>(kAppends));
  return dry->operations();
}

TEST(ManifestCrash, AnErrorReplacingTheManifestPoisonsAndTheNextOpenHasEveryAck) {
  const uint64_t calls = workload_calls();
  int manifest_errors = 0;
  for (uint64_t n = 1; n <= calls; ++n) {
    auto fs = std::make_shared<SimFs>();
    fs->fail_at(n, /*persistent=*/false);
    Outcome outcome;
    const std::vector<Receipt> acked = run_until_failure(fs, outcome);
    if (fs->failed_call().find("/manifest") == std::string::npos) continue;
    SCOPED_TRACE("error at call " + std::to_string(n) + ": " + fs->failed_call());
    ++manifest_errors;
    fs->fail_at(0, false);
    if (acked.size() == static_cast<size_t>(kAppends)) {
      EXPECT_TRUE(outcome.closed_ok) << "the manifest of a clean close does not fail the close";
    } else {
      EXPECT_TRUE(outcome.open_failed || outcome.poisoned) << "the store went on after its manifest failed";
    }
    const uint64_t segments = expect_opens_with(fs, acked);
    auto recorded = segment::read_manifest(*fs, kDir);
    ASSERT_TRUE(recorded) << recorded.error().to_string();
    ASSERT_TRUE(recorded->has_value());
    EXPECT_EQ((*recorded)->newest_segment_id, segments) << "the next open brings the manifest up to date";
  }
  EXPECT_GE(manifest_errors, 8) << "each manifest replacement makes several calls";
}

TEST(ManifestCrash, APowerCutAtAnyCallLeavesADiskThatOpensWithEveryAck) {
  const uint64_t calls = workload_calls();
  for (uint64_t n = 1; n <= calls; ++n) {
    SCOPED_TRACE("power cut at call " + std::to_string(n));
    auto fs = std::make_shared<SimFs>();
    fs->crash_at(n);
    Outcome outcome;
    const std::vector<Receipt> acked = run_until_failure(fs, outcome);
    for (bool current_names : {false, true}) {
      expect_opens_with(fs->crashed_copy({}, current_names), acked);
      if (::testing::Test::HasFailure()) return;
    }
  }
}

TEST(ManifestCrash, AReadWriteSessionThatAppendsNothingLeavesTheManifestAlone) {
  auto fs = std::make_shared<SimFs>();
  Outcome outcome;
  const std::vector<Receipt> acked = run_until_failure(fs, outcome);
  ASSERT_TRUE(outcome.closed_ok);
  for (int session = 0; session < 2; ++session) {
    const size_t before = fs->calls().size();
    auto store = Store::open(kDir, options_on(fs));
    ASSERT_TRUE(store) << store.error().to_string();
    ASSERT_TRUE((*store)->close());
    const std::vector<std::string> calls = fs->calls();
    for (size_t i = before; i < calls.size(); ++i) {
      EXPECT_EQ(calls[i].find("/manifest"), std::string::npos) << "session " << session << ": " << calls[i];
    }
  }
  expect_opens_with(fs, acked);
}

}  // namespace
}  // namespace batpak::testing
