// Damage in the tail ring (tail.ring) never makes an open take a wrong event: whatever byte
// is flipped, the open succeeds, takes a prefix of the events only the ring held, in commit
// order, and the store verifies.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "batpak/batpak.hpp"
#include "support/assertions.hpp"
#include "support/fault_fs.hpp"
#include "support/file_bytes.hpp"
#include "support/temp_dir.hpp"
#include "writer/tail_ring.hpp"

namespace batpak::testing {
namespace {

namespace fs = std::filesystem;

// A store whose first segment write failed: the events acknowledged are only in its tail
// ring (how many depends on when the writer thread fails). Returns the acknowledged
// receipts, in commit order, or nothing when the writer did not fail.
std::vector<Receipt> make_store_with_ring_only_events(const std::string& dir) {
  auto fault_fs = std::make_shared<FaultFs>();
  fault_fs->pass_map_shared(true);
  StoreOptions o;
  o.durability = Durability::kBuffered;
  o.fs = fault_fs;
  o.preallocate_bytes = 0;         // Every pwrite after the open is a write of frames:
  o.segment_footers = false;        // no preallocation, footer or checkpoint writes.
  o.index_checkpoint = false;
  o.tail_ring_bytes = writer::kTailRingBytesMin;  // Small copies per case.
  std::vector<Receipt> acked;
  auto store = Store::open(dir, o);
  EXPECT_TRUE(store.has_value());
  if (!store) return acked;
  fault_fs->fail_nth_write(1);
  for (int i = 0; i < 40; ++i) {
    auto coordinate = Coordinate::make("e:" + std::to_string(i % 4), "s");
    auto r = (*store)->append(*coordinate, EventKind{0x1001}, std::vector<uint8_t>(150, static_cast<uint8_t>(i)));
    if (!r) break;
    acked.push_back(*r);
  }
  if ((*store)->close()) acked.clear();  // The writer did not fail.
  return acked;
}

struct Reopened {
  uint64_t from_ring = 0;
  uint64_t events = 0;
};

void copy_store(const std::string& ref, const std::string& dir) {
  fs::remove_all(dir);
  fs::copy(ref, dir, fs::copy_options::recursive);
}

// Opens the store in `dir` (kSync) and checks that its events are the first ones of `acked`
// and that it verifies.
Reopened open_and_check(const std::string& dir, const std::vector<Receipt>& acked) {
  Reopened out;
  auto store = Store::open(dir);
  EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().to_string());
  if (!store) return out;
  out.from_ring = (*store)->open_report().events_from_tail_ring;
  out.events = (*store)->stats().event_count;
  EXPECT_LE(out.events, acked.size());
  for (size_t i = 0; i < out.events && i < acked.size(); ++i) {
    auto e = (*store)->get(acked[i].event_id);
    EXPECT_TRUE(e.has_value()) << "event " << i << " is not the acknowledged one";
    if (e) {
      EXPECT_EQ(e->header.event_hash, acked[i].event_hash);
    }
  }
  auto report = (*store)->verify();
  EXPECT_TRUE(report.has_value() && report->ok());
  return out;
}

TEST(TailRingDamage, AFlippedByteAnywhereInTheRingGivesAPrefixOfItsEventsAndAStoreThatVerifies) {
  TempDir tmp;
  const std::string ref = tmp.sub("ref");
  const std::string dir = tmp.sub("copy");
  std::vector<Receipt> acked;
  for (int attempt = 0; attempt < 20 && acked.size() < 4; ++attempt) {
    fs::remove_all(ref);
    acked = make_store_with_ring_only_events(ref);
  }
  ASSERT_GE(acked.size(), 4u);

  copy_store(ref, dir);
  const Reopened clean = open_and_check(dir, acked);
  ASSERT_EQ(clean.events, acked.size());
  ASSERT_GE(clean.from_ring, 2u) << "the ring must hold several events for this test to mean much";
  const uint64_t in_segments = clean.events - clean.from_ring;

  const std::string ring = ref + "/" + writer::kTailRingFileName;
  const std::vector<uint8_t> bytes = read_file_bytes(ring);
  const std::vector<writer::TailRecord> records = writer::decode_tail_ring(bytes);
  ASSERT_FALSE(records.empty());
  const auto used_end = static_cast<size_t>(records.back().frames.data() + records.back().frames.size() - bytes.data());

  std::vector<size_t> positions;
  for (size_t at = 0; at < 72; ++at) positions.push_back(at);  // The file header, tail included.
  const size_t stride = std::max<size_t>(37, (used_end - writer::kTailRingHeaderBytes) / 200) | 1;
  for (size_t at = writer::kTailRingHeaderBytes; at < used_end; at += stride) positions.push_back(at);
  uint64_t fewer = 0;
  for (size_t at : positions) {
    SCOPED_TRACE("flipped byte " + std::to_string(at));
    copy_store(ref, dir);
    std::vector<uint8_t> damaged = bytes;
    damaged[at] ^= static_cast<uint8_t>(1u << (at % 8));
    write_file_bytes(dir + "/" + writer::kTailRingFileName, damaged);
    const Reopened got = open_and_check(dir, acked);
    EXPECT_EQ(got.events, in_segments + got.from_ring);
    fewer += got.from_ring < clean.from_ring;
    if (HasFailure()) return;
  }
  EXPECT_GT(fewer, positions.size() / 2) << "most flips must cut the ring short";
}

}  // namespace
}  // namespace batpak::testing
