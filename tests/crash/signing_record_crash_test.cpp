// The signing record under power cuts (SimFs). Invariant proved here: a signed receipt is
// never acknowledged while its store's signing record could still be lost. Whatever mutating
// call of "open an unsigned store with a seed, append signed events, close" the power fails
// at, the disk left behind opens, and if any signed append was acknowledged, it records the
// seed's public key, so no later open without the seed can append unsigned events.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "batpak/batpak.hpp"
#include "support/assertions.hpp"
#include "support/sim_fs.hpp"

namespace batpak::testing {
namespace {

const EventKind kKind(0x1001);
const std::string kDir = "/sim/store";

StoreOptions options_on(std::shared_ptr<Fs> fs, bool with_seed) {
  StoreOptions options;
  options.fs = std::move(fs);
  options.preallocate_bytes = 0;  // Megabytes of zeros would only slow SimFs down.
  if (with_seed) {
    options.signing_seed = SigningSeed{};
    options.signing_seed->fill(0x44);
  }
  return options;
}

// An unsigned store with one event, closed.
std::shared_ptr<SimFs> unsigned_store() {
  auto fs = std::make_shared<SimFs>();
  auto store = Store::open(kDir, options_on(fs, false));
  EXPECT_TRUE(store) << store.error().to_string();
  if (!store) return fs;
  EXPECT_TRUE((*store)->append(Coordinate::make("e", "s").value(), kKind, std::vector<uint8_t>{0}));
  EXPECT_TRUE((*store)->close());
  return fs;
}

struct Session {
  std::shared_ptr<SimFs> fs;  // The file system it ran on.
  size_t signed_acked = 0;    // Signed appends that returned.
  uint64_t calls = 0;         // The mutating calls it made.
};

// Opens a copy of `base` with the seed, with a power cut at its `crash_at`-th mutating call
// (0: none), appends three events until one fails, and closes.
Session signed_session(const SimFs& base, uint64_t crash_at) {
  Session run{base.crashed_copy({}, false)};
  const uint64_t before = run.fs->operations();
  run.fs->crash_at(crash_at);
  auto store = Store::open(kDir, options_on(run.fs, true));
  if (store) {
    for (int i = 0; i < 3; ++i) {
      auto r = (*store)->append(Coordinate::make("e", "s").value(), kKind, std::vector<uint8_t>{1});
      if (!r) break;
      EXPECT_TRUE(r->signature.has_value());
      ++run.signed_acked;
    }
    (void)(*store)->close();
  }
  run.calls = run.fs->operations() - before;
  return run;
}

TEST(SigningRecordCrash, NoSignedReceiptIsAcknowledgedBeforeTheRecordIsDurable) {
  const std::shared_ptr<SimFs> base = unsigned_store();
  const Session whole = signed_session(*base, 0);
  ASSERT_EQ(whole.signed_acked, 3u);
  BATPAK_ASSERT_OK_AND_ASSIGN(key, signing_public_key(*options_on(nullptr, true).signing_seed));
  size_t recorded = 0;
  size_t unrecorded = 0;
  for (uint64_t cut = 1; cut <= whole.calls + 1; ++cut) {
    const Session run = signed_session(*base, cut);
    for (bool current_names : {false, true}) {
      const std::string when = "cut at call " + std::to_string(cut) + (current_names ? ", current names" : "");
      auto disk = run.fs->crashed_copy({}, current_names);
      auto store = Store::open(kDir, options_on(disk, false));
      ASSERT_TRUE(store) << when << ": " << store.error().to_string();
      const std::optional<PublicKey> public_key = (*store)->public_key();
      if (run.signed_acked > 0) {
        EXPECT_EQ(public_key, key) << "a signed receipt outlived its record: " << when;
      }
      if (public_key) {
        EXPECT_EQ(public_key, key) << when;
        EXPECT_FALSE((*store)->append(Coordinate::make("e", "s").value(), kKind, std::vector<uint8_t>{2})) << when;
      }
      (public_key ? recorded : unrecorded) += 1;
    }
  }
  std::printf("signing record power cuts: %llu mutating calls: recorded on %zu disks, not yet on %zu\n",
              static_cast<unsigned long long>(whole.calls), recorded, unrecorded);
  EXPECT_GT(recorded, 0u);
  EXPECT_GT(unrecorded, 0u);
}

}  // namespace
}  // namespace batpak::testing
