// The keys file under power cuts (SimFs). Invariants proved here: a sealed append is never
// acknowledged while its key could still be lost, a shred is never acknowledged while its
// key could still come back, and a master key change is never acknowledged while the old
// master key could still be needed, nor does one cut short lose a key. Whatever mutating
// call of "open an encrypting store, append to new entities, shred a namespace of two,
// change the master key, append again (to new entities too), close" the power fails at,
// and whatever part of the unsynced writes reached the disk (none, all, or all with the
// last one torn), the disk left behind opens (with the new master key once its change was
// acknowledged, otherwise with the old one or the new one), every acknowledged event reads
// back with its own payload unless its entity's shred was acknowledged (a shred the cut
// interrupted may or may not have taken effect), every event of an acknowledged shred reads
// as shredded, verify() passes, and no temporary copy of the keys is left after the open.
// Run for each kind of change: a master key kept (a new file id), replaced, added and
// removed, and plain keys rewritten.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "batpak/batpak.hpp"
#include "support/assertions.hpp"
#include "support/sim_fs.hpp"

namespace batpak::testing {
namespace {

const EventKind kKind(0x1001);
const std::string kDir = "/sim/store";
const std::vector<std::string> kEntities = {"user:a", "user:b", "user:b:x", "user:c"};
const MasterKey kFirst{0x6b, 0x65, 0x79};
const MasterKey kSecond{0x6e, 0x65, 0x77};

// The master key a store is made with, and the one it is changed to.
struct Change {
  const char* name;
  std::optional<MasterKey> from;
  std::optional<MasterKey> to;
};

void PrintTo(const Change& change, std::ostream* os) { *os << change.name; }

StoreOptions options_on(std::shared_ptr<Fs> fs, const std::optional<MasterKey>& master_key) {
  StoreOptions options;
  options.master_key = master_key;
  options.fs = std::move(fs);
  options.preallocate_bytes = 0;  // Megabytes of zeros would only slow SimFs down.
  options.encrypt_payloads = true;
  options.index_checkpoint = false;
  return options;
}

std::vector<uint8_t> payload_of(const std::string& entity, int i) {
  const std::string text = entity + "/" + std::to_string(i);
  return {text.begin(), text.end()};
}

struct Session {
  std::shared_ptr<SimFs> fs;
  std::map<EventId, std::vector<uint8_t>> acked;  // Acknowledged appends and their payloads.
  std::set<EventId> sealed_before_shred;          // The events of namespace "user:b" before its shred.
  bool shred_acked = false;                       // Of namespace "user:b" (two entities).
  bool change_acked = false;                      // Of the master key.
  uint64_t calls = 0;
};

// Appends one event to each entity, shreds namespace "user:b" (user:b and user:b:x),
// changes the master key, appends one more to each and to new ones (the shredded ones' and
// theirs under new keys), closes; the power fails at the `crash_at`-th mutating call (0:
// never).
Session run_session(uint64_t crash_at, const Change& change) {
  Session run;
  run.fs = std::make_shared<SimFs>();
  run.fs->crash_at(crash_at);
  auto store = Store::open(kDir, options_on(run.fs, change.from));
  if (!store) return run;
  auto append_all = [&](int round) {
    std::vector<std::string> entities = kEntities;
    if (round > 0) entities.push_back("user:new" + std::to_string(round));
    for (const std::string& entity : entities) {
      auto r = (*store)->append(Coordinate::make(entity, "s").value(), kKind, payload_of(entity, round));
      if (!r) return false;
      run.acked[r->event_id] = payload_of(entity, round);
      if (entity.starts_with("user:b") && round == 0) run.sealed_before_shred.insert(r->event_id);
    }
    return true;
  };
  if (append_all(0)) {
    run.shred_acked = (*store)->shred_namespace("user:b").has_value();
    run.change_acked = run.shred_acked && (*store)->change_master_key(change.to).has_value();
    if (run.change_acked) append_all(1);
  }
  (void)(*store)->close();
  run.calls = run.fs->operations();
  return run;
}

// The store on `disk`, opened with the master key the session's state calls for: the new one
// once its change was acknowledged; else the old one, or the new one if the old is refused
// (`opened_new` counts those).
Result<std::unique_ptr<Store>> open_after(const std::shared_ptr<SimFs>& disk, const Session& run,
                                          const Change& change, size_t& opened_new) {
  if (run.change_acked) return Store::open(kDir, options_on(disk, change.to));
  auto store = Store::open(kDir, options_on(disk, change.from));
  if (store || store.error().code != ErrorCode::kInvalidArgument) return store;
  ++opened_new;
  return Store::open(kDir, options_on(disk, change.to));
}

class KeysPowerCut : public ::testing::TestWithParam<Change> {};

TEST_P(KeysPowerCut, AcknowledgedSealsKeepTheirKeysAndAcknowledgedShredsAndChangesHold) {
  const Change& change = GetParam();
  const Session whole = run_session(0, change);
  ASSERT_EQ(whole.acked.size(), 9u);
  ASSERT_TRUE(whole.shred_acked);
  ASSERT_TRUE(whole.change_acked);
  size_t disks_checked = 0;
  size_t shredded_disks = 0;
  size_t changed_disks = 0;
  size_t opened_new = 0;  // Of the disks left by a change cut short.
  for (uint64_t cut = 1; cut <= whole.calls + 1; ++cut) {
    const Session run = run_session(cut, change);
    int variant = 0;
    for (const std::shared_ptr<SimFs>& disk : run.fs->crashed_copies_lost_kept_torn()) {
      const std::string when = "cut at call " + std::to_string(cut) + ", disk " + std::to_string(variant++);
      auto store = open_after(disk, run, change, opened_new);
      ASSERT_TRUE(store) << when << ": " << store.error().to_string();
      EXPECT_FALSE(*disk->exists(kDir + "/keys.tmp")) << when;
      for (const auto& [id, payload] : run.acked) {
        auto event = (*store)->get(id);
        ASSERT_TRUE(event) << when << ": acknowledged event lost: " << event.error().to_string();
        const bool shred_target = run.sealed_before_shred.count(id) != 0;
        if (shred_target && run.shred_acked) {
          EXPECT_TRUE(event->payload_shredded) << when << ": an acknowledged shred came undone";
        } else if (shred_target && event->payload_shredded) {  // A shred cut short may have taken effect.
          EXPECT_TRUE(event->payload.empty()) << when;
        } else {
          EXPECT_FALSE(event->payload_shredded) << when << ": an acknowledged event lost its key";
          EXPECT_EQ(event->payload, payload) << when;
        }
      }
      BATPAK_ASSERT_OK_AND_ASSIGN(report, (*store)->verify());
      EXPECT_TRUE(report.ok()) << when;
      shredded_disks += run.shred_acked;
      changed_disks += run.change_acked;
      ++disks_checked;
    }
  }
  std::printf("keys file power cuts (%s): %llu mutating calls, %zu disks checked, %zu after an acknowledged shred, "
              "%zu after an acknowledged master key change, %zu opened with the new master key before it\n",
              change.name, static_cast<unsigned long long>(whole.calls), disks_checked, shredded_disks, changed_disks,
              opened_new);
  EXPECT_GT(shredded_disks, 0u);
  EXPECT_LT(shredded_disks, disks_checked);
  EXPECT_GT(changed_disks, 0u);
  EXPECT_LT(changed_disks, shredded_disks);
  if (change.from != change.to) {
    EXPECT_GT(opened_new, 0u);  // Cut between the rename and its acknowledgement.
  }
}

INSTANTIATE_TEST_SUITE_P(MasterKeyChanges, KeysPowerCut,
                         ::testing::Values(Change{"Plain", std::nullopt, std::nullopt}, Change{"Kept", kFirst, kFirst},
                                           Change{"Replaced", kFirst, kSecond}, Change{"Added", std::nullopt, kFirst},
                                           Change{"Removed", kFirst, std::nullopt}),
                         [](const ::testing::TestParamInfo<Change>& param) { return std::string(param.param.name); });

}  // namespace
}  // namespace batpak::testing
