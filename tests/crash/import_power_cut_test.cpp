// Store::import_from under power cuts (SimFs). Invariants proved here: whatever mutating call
// of "open an empty store, import 10 events from another store in batches of 3, close" the
// power fails at, and whatever part of the unsynced writes reached the disk (none, all, or
// all with the last one torn), the disk left behind opens and holds a prefix of the source's
// events made of whole batches (0, 3, 6, 9 or 10 events), all 10 once the import was
// acknowledged; verify() passes; and rerunning the import there counts that prefix as
// already present and leaves an exact copy of the source.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "batpak/batpak.hpp"
#include "store/store_fixtures.hpp"
#include "support/sim_fs.hpp"

namespace batpak::testing {
namespace {

constexpr uint32_t kChunk = 3;
constexpr size_t kEvents = 10;
const std::string kSourceDir = "/sim/source";
const std::string kCopyDir = "/sim/copy";

StoreOptions options_on(std::shared_ptr<Fs> fs) {
  StoreOptions options;
  options.fs = std::move(fs);
  options.preallocate_bytes = 0;  // Megabytes of zeros would only slow SimFs down.
  options.index_checkpoint = false;
  return options;
}

// The source: 10 events over three entities, on a SimFs of its own that never fails.
std::unique_ptr<Store> make_source() {
  auto store = Store::open(kSourceDir, options_on(std::make_shared<SimFs>()));
  EXPECT_TRUE(store) << store.error().to_string();
  if (!store) return nullptr;
  for (size_t i = 0; i < kEvents; ++i) {
    const std::string entity = "order:" + std::to_string(i % 3);
    const std::string text = entity + "/" + std::to_string(i);
    EXPECT_TRUE((*store)->append(Coordinate::make(entity, "s").value(), EventKind(0x1001),
                                 std::vector<uint8_t>(text.begin(), text.end())));
  }
  return std::move(*store);
}

struct Session {
  std::shared_ptr<SimFs> fs;
  bool import_acked = false;
  uint64_t calls = 0;
};

Session run_session(const Store& source, uint64_t crash_at) {
  Session run;
  run.fs = std::make_shared<SimFs>();
  run.fs->crash_at(crash_at);
  auto copy = Store::open(kCopyDir, options_on(run.fs));
  if (!copy) return run;
  ImportOptions options;
  options.chunk_events = kChunk;
  run.import_acked = (*copy)->import_from(source, {}, options).has_value();
  (void)(*copy)->close();
  run.calls = run.fs->operations();
  return run;
}

TEST(ImportPowerCut, ACutKeepsWholeBatchesOfTheSourceAndARerunCompletesAnExactCopy) {
  std::unique_ptr<Store> source = make_source();
  ASSERT_NE(source, nullptr);
  auto original = source->query(Region::all());
  ASSERT_TRUE(original);
  ASSERT_EQ(original->size(), kEvents);
  const Session whole = run_session(*source, 0);
  ASSERT_TRUE(whole.import_acked);
  size_t disks_checked = 0;
  size_t partial_disks = 0;  // Holding some but not all of the source.
  for (uint64_t cut = 1; cut <= whole.calls + 1; ++cut) {
    const Session run = run_session(*source, cut);
    int variant = 0;
    for (const std::shared_ptr<SimFs>& disk : run.fs->crashed_copies_lost_kept_torn()) {
      const std::string when = "cut at call " + std::to_string(cut) + ", disk " + std::to_string(variant++);
      auto copy = Store::open(kCopyDir, options_on(disk));
      ASSERT_TRUE(copy) << when << ": " << copy.error().to_string();
      auto kept = (*copy)->query(Region::all());
      ASSERT_TRUE(kept) << when;
      const size_t k = kept->size();
      EXPECT_TRUE(k % kChunk == 0 || k == kEvents) << when << ": " << k << " events, not whole batches";
      if (run.import_acked) {
        EXPECT_EQ(k, kEvents) << when << ": an acknowledged import lost events";
      }
      for (size_t i = 0; i < k && i < kEvents; ++i) {
        EXPECT_EQ((*kept)[i].header.event_id, (*original)[i].header.event_id) << when << ": not a prefix";
      }
      BATPAK_ASSERT_OK_AND_ASSIGN(verified, (*copy)->verify());
      EXPECT_TRUE(verified.ok()) << when;

      BATPAK_ASSERT_OK_AND_ASSIGN(rerun, (*copy)->import_from(*source));
      EXPECT_EQ(rerun.already_present, k) << when;
      EXPECT_EQ(rerun.imported, kEvents - k) << when;
      auto copied = (*copy)->query(Region::all());
      ASSERT_TRUE(copied) << when;
      ASSERT_EQ(copied->size(), kEvents) << when;
      for (size_t i = 0; i < kEvents; ++i) store_test::expect_same_event((*copied)[i], (*original)[i]);
      partial_disks += (k != 0 && k != kEvents);
      ++disks_checked;
    }
  }
  std::printf("import power cuts: %llu mutating calls, %zu disks checked, %zu holding part of the source\n",
              static_cast<unsigned long long>(whole.calls), disks_checked, partial_disks);
  EXPECT_GT(partial_disks, 0u);
}

}  // namespace
}  // namespace batpak::testing
