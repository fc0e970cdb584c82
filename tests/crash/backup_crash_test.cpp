// Store::backup under power cuts (SimFs). Invariant proved here: whatever mutating call of a
// backup the power fails at, the destination afterwards is absent or a complete copy (it
// opens, verifies, holds every event of the source and signs with its key); after the backup
// returned, it is complete.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "batpak/batpak.hpp"
#include "support/sim_fs.hpp"

namespace batpak::testing {
namespace {

const EventKind kKind(0x1001);
const std::string kSource = "/sim/store";
const std::string kDestination = "/sim/backup";

struct Source {
  std::shared_ptr<SimFs> fs;
  std::vector<Receipt> visible;  // Every visible event of the source.
  PublicKey public_key{};        // The key its signing record holds.
};

// A closed, signing kSync store over several segments, with one cancelled fence (so the copy
// has a fences file and a signing record) and a last event after it.
Source make_source() {
  Source source{std::make_shared<SimFs>(), {}, {}};
  StoreOptions options;
  options.fs = source.fs;
  options.segment_bytes_max = 4096;
  options.signing_seed = SigningSeed{};
  options.signing_seed->fill(0x21);
  auto store = Store::open(kSource, options);
  EXPECT_TRUE(store) << store.error().to_string();
  if (!store) return source;
  source.public_key = *(*store)->public_key();
  auto append = [&](const std::string& entity) {
    auto r = (*store)->append(Coordinate::make(entity, "s").value(), kKind, std::vector<uint8_t>(300, 7));
    EXPECT_TRUE(r) << r.error().to_string();
    if (r) source.visible.push_back(*r);
  };
  for (int i = 0; i < 30; ++i) append("e" + std::to_string(i % 3));
  {
    auto fence = (*store)->begin_fence();
    EXPECT_TRUE(fence) << fence.error().to_string();
    if (fence) {
      EXPECT_TRUE(fence->append(Coordinate::make("e0", "s").value(), kKind, std::vector<uint8_t>{1}));
      EXPECT_TRUE(fence->cancel());
    }
  }
  append("e1");
  EXPECT_TRUE((*store)->close());
  return source;
}

// Whether the destination exists on `disk`; when it does, checks it is a complete copy.
bool destination_complete_if_present(const std::shared_ptr<SimFs>& disk, const Source& source,
                                     const std::string& when) {
  auto exists = disk->exists(kDestination);
  EXPECT_TRUE(exists);
  if (!exists || !*exists) return false;
  StoreOptions options;
  options.fs = disk;
  options.access = AccessMode::kReadOnly;
  auto copy = Store::open(kDestination, options);
  EXPECT_TRUE(copy) << when << ": " << copy.error().to_string();
  if (!copy) return true;
  for (const Receipt& r : source.visible) {
    EXPECT_TRUE((*copy)->get(r.event_id)) << when << ": event " << r.global_sequence << " missing";
  }
  EXPECT_EQ((*copy)->cancelled_ranges().size(), 1u) << when;
  EXPECT_EQ((*copy)->public_key(), source.public_key) << when;
  auto verified = (*copy)->verify();
  EXPECT_TRUE(verified && verified->ok()) << when;
  return true;
}

struct BackupRun {
  std::shared_ptr<SimFs> fs;  // The file system it ran on.
  bool ok = false;            // Whether the backup succeeded.
  uint64_t calls = 0;         // The mutating calls it made.
};

// Runs a backup of the source with a power cut at its `crash_at`-th mutating call (0: none).
BackupRun backup_with_cut_at(const Source& source, uint64_t crash_at) {
  BackupRun run{source.fs->crashed_copy({}, false)};
  StoreOptions options;
  options.fs = run.fs;
  auto store = Store::open(kSource, options);
  EXPECT_TRUE(store) << store.error().to_string();
  if (!store) return run;
  const uint64_t before = run.fs->operations();
  run.fs->crash_at(crash_at);
  run.ok = (*store)->backup(kDestination).has_value();
  run.calls = run.fs->operations() - before;
  return run;
}

TEST(BackupCrash, TheDestinationIsAbsentOrCompleteAtEveryPowerCut) {
  const Source source = make_source();
  ASSERT_EQ(source.visible.size(), 31u);
  // The mutating calls of a whole backup.
  const BackupRun whole = backup_with_cut_at(source, 0);
  ASSERT_TRUE(whole.ok);
  const uint64_t calls = whole.calls;
  ASSERT_GT(calls, 10u);
  size_t absent = 0;
  size_t complete = 0;
  for (uint64_t cut = 1; cut <= calls + 1; ++cut) {
    const BackupRun run = backup_with_cut_at(source, cut);
    ASSERT_EQ(run.ok, cut > calls) << "cut at call " << cut << " of " << calls;
    for (bool current_names : {false, true}) {
      const std::string when = "cut at call " + std::to_string(cut) + (current_names ? ", current names" : "");
      auto disk = run.fs->crashed_copy({}, current_names);
      const bool present = destination_complete_if_present(disk, source, when);
      if (run.ok && !current_names) {
        EXPECT_TRUE(present) << "a backup that returned was lost: " << when;
      }
      (present ? complete : absent) += 1;
    }
  }
  std::printf("backup power cuts: %llu mutating calls, %zu disks: destination absent on %zu, complete on %zu\n",
              static_cast<unsigned long long>(calls), absent + complete, absent, complete);
  EXPECT_GT(absent, 0u);
  EXPECT_GT(complete, 0u);
}

}  // namespace
}  // namespace batpak::testing
