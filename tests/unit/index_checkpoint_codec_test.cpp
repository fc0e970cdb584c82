// The index checkpoint decoder reading from a file a window at a time (decode_file) agrees
// with the in-memory decoder byte for byte, across window boundaries, and refuses damage
// that only the trailing checksum can see, leaving the index empty.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "index/index_checkpoint.hpp"
#include "support/assertions.hpp"
#include "support/file_bytes.hpp"
#include "support/temp_dir.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"

namespace batpak::index {
namespace {

// 90,000 rows of 60 bytes: a checkpoint of about 5.4 MB, many 256 KiB read windows.
constexpr uint64_t kRows = 90000;
constexpr size_t kRowBytes = 60;
constexpr uint32_t kFrameBytes = 100;

std::vector<uint8_t> checkpoint_bytes() {
  Index index;
  for (uint64_t seq = 1; seq <= kRows; ++seq) {
    Entry e;
    e.event_id.bytes[0] = 0x01;
    for (int b = 0; b < 8; ++b) e.event_id.bytes[8 + b] = static_cast<uint8_t>(seq >> (8 * b));
    e.segment_id = 1;
    e.offset = 64 + (seq - 1) * kFrameBytes;
    e.wall_ms = 1000 + seq;
    e.frame_bytes = kFrameBytes;
    e.clock = static_cast<uint32_t>((seq - 1) / 7 + 1);
    e.kind = EventKind(0x1001);
    Hash32 event_hash;
    event_hash.bytes[0] = static_cast<uint8_t>(seq);
    index.add("entity:" + std::to_string((seq - 1) % 7), "scope", e, event_hash);
  }
  CheckpointMeta meta;
  meta.segments.push_back(CoveredSegment{1, 64 + kRows * kFrameBytes, 42});
  meta.wall_ms_max = 1000 + kRows;
  return CheckpointCodec::encode(index, meta);
}

class CheckpointFileTest : public ::testing::Test {
 protected:
  // Decodes `bytes` written to a file with decode_file.
  Result<CheckpointMeta> decode_file(const std::vector<uint8_t>& bytes, Index& index) {
    const std::string path = tmp_.sub("index.checkpoint");
    testing::write_file_bytes(path, bytes);
    auto file = posix_fs()->open(path, Fs::OpenMode::kRead);
    EXPECT_TRUE(file.has_value());
    return CheckpointCodec::decode_file(**file, index);
  }

  testing::TempDir tmp_;
};

TEST_F(CheckpointFileTest, DecodeFileRebuildsTheSameIndexAsDecodeAcrossReadWindows) {
  const std::vector<uint8_t> bytes = checkpoint_bytes();
  ASSERT_GT(bytes.size(), size_t{4} << 20);
  Index from_file;
  BATPAK_ASSERT_OK_AND_ASSIGN(meta, decode_file(bytes, from_file));
  EXPECT_EQ(from_file.size(), kRows);
  EXPECT_EQ(CheckpointCodec::encode(from_file, meta), bytes);
  Index from_memory;
  BATPAK_ASSERT_OK_AND_ASSIGN(same, CheckpointCodec::decode(bytes, from_memory));
  EXPECT_EQ(CheckpointCodec::encode(from_memory, same), bytes);
}

TEST_F(CheckpointFileTest, DamageOnlyTheChecksumSeesIsRefusedAndLeavesTheIndexEmpty) {
  std::vector<uint8_t> bytes = checkpoint_bytes();
  // A byte of a wall_ms 5 MiB in, in a later window: no structural check can notice it.
  const size_t rows_start = bytes.size() - 8 - kRows * kRowBytes;
  const size_t row = ((size_t{5} << 20) - rows_start) / kRowBytes;
  bytes[rows_start + row * kRowBytes + 40] ^= 0x40;
  Index index;
  auto meta = decode_file(bytes, index);
  BATPAK_EXPECT_ERROR(meta, ErrorCode::kCorruption);
  EXPECT_NE(meta.error().message.find("checksum"), std::string::npos) << meta.error().message;
  EXPECT_EQ(index.size(), 0u);
}

TEST_F(CheckpointFileTest, ATruncatedFileIsRefusedAndLeavesTheIndexEmpty) {
  const std::vector<uint8_t> whole = checkpoint_bytes();
  for (size_t keep : {size_t{0}, size_t{40}, whole.size() / 2, (size_t{4} << 20) + 5, whole.size() - 1}) {
    Index index;
    auto meta = decode_file(std::vector<uint8_t>(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(keep)), index);
    BATPAK_EXPECT_ERROR(meta, ErrorCode::kCorruption);
    EXPECT_EQ(index.size(), 0u) << "kept " << keep;
  }
}

// Each entity declares its event count (the load reserves it): a count that disagrees with
// the rows is refused even with a valid checksum, and so is a total larger than the rows.
TEST_F(CheckpointFileTest, AnEntityEventCountThatDisagreesWithTheRowsIsRefused) {
  const std::vector<uint8_t> pristine = checkpoint_bytes();
  // Header, one covered segment, then entity 0: name length, "entity:0", head hash, count.
  constexpr size_t kFirstCountAt = 64 + 24 + 2 + 8 + 32;
  const uint32_t declared = util::load_le<uint32_t>(pristine.data() + kFirstCountAt);
  ASSERT_EQ(declared, (kRows + 6) / 7);
  const std::pair<uint32_t, const char*> cases[] = {{declared + 1, "more entity events than rows"},
                                                    {declared - 1, "more or fewer"},
                                                    {0, "without events"},
                                                    {UINT32_MAX, "more entity events than rows"}};
  for (const auto& [count, why] : cases) {
    std::vector<uint8_t> bytes = pristine;
    util::store_le<uint32_t>(bytes.data() + kFirstCountAt, count);
    const size_t checksum_at = bytes.size() - 8;
    util::store_le<uint64_t>(bytes.data() + checksum_at,
                             util::checksum64(std::span<const uint8_t>(bytes).first(checksum_at)));
    Index index;
    auto meta = CheckpointCodec::decode(bytes, index);
    BATPAK_EXPECT_ERROR(meta, ErrorCode::kCorruption);
    if (!meta) {
      EXPECT_NE(meta.error().message.find(why), std::string::npos) << count << ": " << meta.error().message;
    }
    EXPECT_EQ(index.size(), 0u);
  }
}

Entry entry_at(uint64_t seq, uint32_t clock) {
  Entry e;
  e.event_id.bytes[0] = 0x02;
  for (int b = 0; b < 8; ++b) e.event_id.bytes[8 + b] = static_cast<uint8_t>(seq >> (8 * b));
  e.segment_id = 1;
  e.offset = 64 + (seq - 1) * kFrameBytes;
  e.frame_bytes = kFrameBytes;
  e.clock = clock;
  e.kind = EventKind(0x1001);
  return e;
}

// A cut ends at the last visible event: hidden events after it are left to the scan at open.
// So a file whose hidden ranges reach its last row was not written by a cut, and is refused.
TEST(CheckpointCut, EndsAtTheLastVisibleEventAndAFileEndingHiddenIsRefused) {
  Index index;
  for (uint32_t clock = 1; clock <= 3; ++clock) index.add("a", "s", entry_at(clock, clock), Hash32{});
  index.add_hidden();
  index.add_hidden();
  const IndexCut cut = CheckpointCodec::cut(index);
  EXPECT_EQ(cut.rows, 3u);
  EXPECT_TRUE(cut.hidden.empty());
  CheckpointMeta meta;
  meta.segments.push_back(CoveredSegment{1, 64 + 5 * kFrameBytes, 42});
  std::vector<uint8_t> bytes = CheckpointCodec::encode(index, cut, meta);
  ASSERT_EQ(util::load_le<uint64_t>(bytes.data() + 16), 3u);
  // The same file claiming rows 4 and 5 as a hidden range at its end.
  util::store_le<uint64_t>(bytes.data() + 16, 5);
  util::store_le<uint32_t>(bytes.data() + 36, 1);
  std::vector<uint8_t> range(16);
  util::store_le<uint64_t>(range.data(), 4);
  util::store_le<uint64_t>(range.data() + 8, 6);
  const auto rows_at = static_cast<std::ptrdiff_t>(bytes.size() - 8 - 3 * 60);
  bytes.insert(bytes.begin() + rows_at, range.begin(), range.end());
  const size_t checksum_at = bytes.size() - 8;
  util::store_le<uint64_t>(bytes.data() + checksum_at, util::checksum64(std::span<const uint8_t>(bytes).first(checksum_at)));
  Index decoded;
  auto refused = CheckpointCodec::decode(bytes, decoded);
  BATPAK_EXPECT_ERROR(refused, ErrorCode::kCorruption);
  if (!refused) {
    EXPECT_NE(refused.error().message.find("ends with a hidden row"), std::string::npos) << refused.error().message;
  }
  EXPECT_EQ(decoded.size(), 0u);
}

// Invariant: the writer adds each published group through one Index::Adder, so a cut taken
// meanwhile never holds part of a group (a batch). Here every group is two events.
TEST(CheckpointCut, NeverSplitsAGroupAddedThroughOneAdder) {
  constexpr uint64_t kGroups = 50000;
  Index index;
  std::atomic<bool> reader_ready{false};
  std::thread writer([&] {
    while (!reader_ready.load()) std::this_thread::yield();
    for (uint64_t g = 0; g < kGroups; ++g) {
      Index::Adder adder = index.adder();
      const auto clock = static_cast<uint32_t>(g + 1);
      adder.add("a", "s", entry_at(2 * g + 1, clock), Hash32{});
      adder.add("b", "s", entry_at(2 * g + 2, clock), Hash32{});
    }
  });
  uint64_t cuts_mid_way = 0;
  uint64_t odd_cuts = 0;
  reader_ready.store(true);
  for (uint64_t rows = 0; rows < 2 * kGroups;) {
    rows = CheckpointCodec::cut(index).rows;
    odd_cuts += rows % 2;
    cuts_mid_way += rows > 0 && rows < 2 * kGroups;
  }
  writer.join();
  EXPECT_EQ(odd_cuts, 0u) << "a cut held half a group";
  EXPECT_GT(cuts_mid_way, 0u) << "no cut was taken while the writer added: the test proved nothing";
}

// A checkpoint of a journal whose history was dropped (docs/retention.md) loads only with
// the horizon it was taken at, and then rebuilds the same index: entities of the horizon keep
// their generation and head, with or without events after it.
TEST(HorizonCheckpointTest, LoadsOnlyWithItsHorizonAndKeepsEachEntitysHead) {
  Horizon horizon;
  horizon.first_segment_id = 3;
  horizon.first_sequence = 41;
  horizon.wall_ms_max = 5000;
  Hash32 quiet_hash, busy_hash;
  quiet_hash.bytes[0] = 0xaa;
  busy_hash.bytes[0] = 0xbb;
  horizon.heads = {{"busy", EntityHead{10, busy_hash, 4000}}, {"quiet", EntityHead{7, quiet_hash, 4500}}};
  Index index;
  index.start_after_horizon(horizon.first_sequence, horizon.heads);
  for (uint32_t i = 0; i < 3; ++i) {  // "busy" continues at clock 11; "new" starts at 1.
    const bool busy = i != 1;
    Entry e;
    e.event_id.bytes[0] = static_cast<uint8_t>(i + 1);
    e.segment_id = 3;
    e.offset = 64 + i * kFrameBytes;
    e.wall_ms = 6000 + i;
    e.frame_bytes = kFrameBytes;
    e.clock = busy ? 11 + i / 2 : 1;
    Hash32 h;
    h.bytes[1] = static_cast<uint8_t>(i);
    index.add(busy ? "busy" : "new", "s", e, h);
  }
  CheckpointMeta meta;
  meta.segments.push_back(CoveredSegment{3, 64 + 3 * kFrameBytes, 42});
  meta.wall_ms_max = 6002;
  meta.horizon_checksum = horizon_checksum(horizon);
  const std::vector<uint8_t> bytes = CheckpointCodec::encode(index, meta);

  Index loaded;
  BATPAK_ASSERT_OK_AND_ASSIGN(decoded, CheckpointCodec::decode(bytes, loaded, horizon));
  EXPECT_EQ(CheckpointCodec::encode(loaded, decoded), bytes);
  EXPECT_EQ(loaded.first_sequence(), 41u);
  EXPECT_EQ(loaded.size(), 43u);
  EXPECT_EQ(loaded.entity_generation("busy"), 12u);
  EXPECT_EQ(loaded.entity_generation("quiet"), 7u);
  EXPECT_EQ(loaded.head("quiet"), (EntityHead{7, quiet_hash, 4500}));
  EXPECT_EQ(loaded.heads(), index.heads());
  EXPECT_FALSE(loaded.at(40).has_value());
  ASSERT_TRUE(loaded.at(41).has_value());
  EXPECT_EQ(loaded.at(41)->entity, "busy");

  Horizon moved = horizon;  // Same first sequence, another head: another fingerprint.
  moved.heads[1].second.clock = 8;
  for (const Horizon& other : {Horizon{}, moved}) {
    Index refused_index;
    auto refused = CheckpointCodec::decode(bytes, refused_index, other);
    BATPAK_EXPECT_ERROR(refused, ErrorCode::kCorruption);
    if (!refused) {
      EXPECT_NE(refused.error().message.find("another history horizon"), std::string::npos);
    }
    EXPECT_EQ(refused_index.size(), 0u);
  }
}

}  // namespace
}  // namespace batpak::index
