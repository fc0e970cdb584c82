// The keys file under power cuts (SimFs). Invariants proved here: a sealed append is never
// acknowledged while its key could still be lost, and a shred is never acknowledged while
// its key could still come back. Whatever mutating call of "open an encrypting store, append
// to new entities, shred one, append again, close" the power fails at, and whatever part of
// the unsynced writes reached the disk (none, all, or all with the last one torn), the disk
// left behind opens, every acknowledged event reads back with its own payload unless its
// entity's shred was acknowledged (a shred the cut interrupted may or may not have taken
// effect), every event of an acknowledged shred reads as shredded, and verify() passes. Run
// twice: with plain keys, and with keys wrapped under a master key.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
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
const std::vector<std::string> kEntities = {"user:a", "user:b", "user:c"};

// `wrapped`: the keys are wrapped under a master key (StoreOptions::master_key).
StoreOptions options_on(std::shared_ptr<Fs> fs, bool wrapped) {
  StoreOptions options;
  if (wrapped) options.master_key = std::array<uint8_t, 32>{0x6b, 0x65, 0x79};
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
  std::set<EventId> sealed_before_shred;          // The events of "user:b" before its shred.
  bool shred_acked = false;                       // Of "user:b".
  uint64_t calls = 0;
};

// Appends one event to each entity, shreds "user:b", appends one more to each (user:b's under
// a new key), closes; the power fails at the `crash_at`-th mutating call (0: never).
Session run_session(uint64_t crash_at, bool wrapped) {
  Session run;
  run.fs = std::make_shared<SimFs>();
  run.fs->crash_at(crash_at);
  auto store = Store::open(kDir, options_on(run.fs, wrapped));
  if (!store) return run;
  auto append_all = [&](int round) {
    for (const std::string& entity : kEntities) {
      auto r = (*store)->append(Coordinate::make(entity, "s").value(), kKind, payload_of(entity, round));
      if (!r) return false;
      run.acked[r->event_id] = payload_of(entity, round);
      if (entity == "user:b" && round == 0) run.sealed_before_shred.insert(r->event_id);
    }
    return true;
  };
  if (append_all(0)) {
    run.shred_acked = (*store)->shred_entity("user:b").has_value();
    if (run.shred_acked) append_all(1);
  }
  (void)(*store)->close();
  run.calls = run.fs->operations();
  return run;
}

// Every disk a power cut during `run` may leave: unsynced changes lost, kept, or kept with
// the last one torn; under the durable names and the current ones.
std::vector<std::shared_ptr<SimFs>> disks_after(const Session& run) {
  std::vector<std::shared_ptr<SimFs>> disks;
  for (bool current_names : {false, true}) {
    disks.push_back(run.fs->crashed_copy({}, current_names));
    std::vector<SimFs::Survivor> all, torn;
    for (const SimFs::PendingFile& f : run.fs->pending_files()) {
      all.push_back({f.path, f.changes, false, std::nullopt});
      torn.push_back({f.path, f.changes - 1, f.is_write.back(), std::nullopt});
    }
    disks.push_back(run.fs->crashed_copy(all, current_names));
    disks.push_back(run.fs->crashed_copy(torn, current_names));
  }
  return disks;
}

class KeysPowerCut : public ::testing::TestWithParam<bool> {};

TEST_P(KeysPowerCut, AcknowledgedSealsKeepTheirKeysAndAcknowledgedShredsStayShredded) {
  const bool wrapped = GetParam();
  const Session whole = run_session(0, wrapped);
  ASSERT_EQ(whole.acked.size(), 6u);
  ASSERT_TRUE(whole.shred_acked);
  size_t disks_checked = 0;
  size_t shredded_disks = 0;
  for (uint64_t cut = 1; cut <= whole.calls + 1; ++cut) {
    const Session run = run_session(cut, wrapped);
    int variant = 0;
    for (const std::shared_ptr<SimFs>& disk : disks_after(run)) {
      const std::string when = "cut at call " + std::to_string(cut) + ", disk " + std::to_string(variant++);
      auto store = Store::open(kDir, options_on(disk, wrapped));
      ASSERT_TRUE(store) << when << ": " << store.error().to_string();
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
      ++disks_checked;
    }
  }
  std::printf("keys file power cuts (%s keys): %llu mutating calls, %zu disks checked, %zu after an acknowledged shred\n",
              wrapped ? "wrapped" : "plain", static_cast<unsigned long long>(whole.calls), disks_checked,
              shredded_disks);
  EXPECT_GT(shredded_disks, 0u);
  EXPECT_LT(shredded_disks, disks_checked);
}

INSTANTIATE_TEST_SUITE_P(PlainAndWrappedKeys, KeysPowerCut, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) { return param.param ? "Wrapped" : "Plain"; });

}  // namespace
}  // namespace batpak::testing
