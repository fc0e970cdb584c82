// The tail ring (docs/format.md, "Tail ring"): its bytes, how append() wraps and refuses,
// what release_to() frees, and every rule decode_tail_ring() stops at.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "batpak/env.hpp"
#include "segment/segment_files.hpp"
#include "support/fault_fs.hpp"
#include "support/temp_dir.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"
#include "writer/tail_ring.hpp"

namespace batpak::writer {
namespace {

constexpr uint64_t kRingBytes = 64u << 10;
constexpr uint64_t kCapacity = kRingBytes - kTailRingHeaderBytes;  // 61,440.
constexpr uint64_t kEpoch = 0x1122334455667788;
constexpr size_t kTailAt = 64;  // The header's tail field.

using Bytes = std::vector<uint8_t>;

// `n` bytes of frames that differ from those of another `seed`.
Bytes frames_of(size_t n, uint8_t seed) {
  Bytes out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(seed * 31 + i * 7 + (i >> 8));
  return out;
}

// The bytes a record of `frame_bytes` bytes of frames takes in the ring.
uint64_t record_bytes(uint64_t frame_bytes) { return kTailRecordHeaderBytes + util::align8(frame_bytes); }

// A record's XXH3-64: its header's first 48 bytes, then its frames.
uint64_t record_checksum(const uint8_t* record, size_t frame_bytes) {
  util::Checksum64Stream stream;
  stream.update({record, 48});
  stream.update({record + kTailRecordHeaderBytes, frame_bytes});
  return stream.digest();
}

// Re-seals the record at file offset `at` with a valid checksum, so a test reaches the rule
// after it.
void reseal(Bytes& file, size_t at) {
  const uint32_t frame_bytes = util::load_le<uint32_t>(file.data() + at + 28);
  util::store_le<uint64_t>(file.data() + at + 48, record_checksum(file.data() + at, frame_bytes));
}

class TailRingTest : public ::testing::Test {
 protected:
  std::unique_ptr<TailRing> create(uint64_t epoch = kEpoch, uint64_t ring_bytes = kRingBytes) {
    auto ring = TailRing::create(*posix_fs(), tmp_.path(), ring_bytes, epoch);
    EXPECT_TRUE(ring.has_value()) << (ring ? "" : ring.error().to_string());
    return ring ? std::move(*ring) : nullptr;
  }

  // The ring file's bytes, read through the Fs.
  Bytes file_bytes() const {
    auto file = posix_fs()->open(path(), Fs::OpenMode::kRead);
    EXPECT_TRUE(file.has_value());
    if (!file) return {};
    auto size = (*file)->size();
    EXPECT_TRUE(size.has_value());
    if (!size) return {};
    Bytes out(*size);
    auto got = (*file)->pread(0, out);
    EXPECT_TRUE(got.has_value());
    EXPECT_EQ(got.value_or(0), out.size());
    return out;
  }

  std::string path() const { return segment::join_path(tmp_.path(), kTailRingFileName); }

  // Appends a record of `frames`; returns the position past it (0 when refused).
  uint64_t append(TailRing& ring, uint64_t first_sequence, uint32_t event_count, const Bytes& frames,
                  uint64_t segment_id = 1, uint64_t segment_offset = 64) {
    const std::optional<uint64_t> end =
        ring.append(TailRecord{first_sequence, event_count, segment_id, segment_offset, frames});
    return end.value_or(0);
  }

  static std::vector<uint64_t> sequences(const std::vector<TailRecord>& records) {
    std::vector<uint64_t> out;
    for (const TailRecord& r : records) out.push_back(r.first_sequence);
    return out;
  }

  static size_t file_offset(uint64_t position) { return kTailRingHeaderBytes + position % kCapacity; }

  testing::TempDir tmp_;
};

TEST_F(TailRingTest, HeaderHasTheDocumentedBytes) {
  auto ring = create();
  ASSERT_TRUE(ring);
  const Bytes file = file_bytes();
  ASSERT_EQ(file.size(), kRingBytes);
  EXPECT_EQ(std::string(file.begin(), file.begin() + 8), "BATPAKTR");
  EXPECT_EQ(util::load_le<uint32_t>(file.data() + 8), 1u);
  EXPECT_EQ(util::load_le<uint32_t>(file.data() + 12), 4096u);
  EXPECT_EQ(util::load_le<uint64_t>(file.data() + 16), kRingBytes);
  EXPECT_EQ(util::load_le<uint64_t>(file.data() + 24), kEpoch);
  EXPECT_EQ(util::load_le<uint64_t>(file.data() + 32), util::checksum64({file.data(), 32}));
  for (size_t i = 40; i < file.size(); ++i) ASSERT_EQ(file[i], 0) << "byte " << i << " of a new ring";
  EXPECT_TRUE(ring->empty());
}

TEST_F(TailRingTest, RecordsRoundTripWithEveryFieldAndFrameByte) {
  auto ring = create();
  ASSERT_TRUE(ring);
  const std::vector<Bytes> frames = {frames_of(1, 1), frames_of(100, 2), frames_of(448, 3)};
  const std::vector<TailRecord> in = {{1, 1, 1, 64, frames[0]},
                                      {2, 3, 1, 72, frames[1]},
                                      {5, 2, 7, 0x0123456789abcdef, frames[2]}};
  uint64_t expected_end = 0;
  for (const TailRecord& r : in) {
    expected_end += record_bytes(r.frames.size());
    EXPECT_EQ(ring->append(r), expected_end);
  }
  EXPECT_FALSE(ring->empty());
  const Bytes file = file_bytes();
  const std::vector<TailRecord> out = decode_tail_ring(file);
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].first_sequence, in[i].first_sequence) << i;
    EXPECT_EQ(out[i].event_count, in[i].event_count) << i;
    EXPECT_EQ(out[i].segment_id, in[i].segment_id) << i;
    EXPECT_EQ(out[i].segment_offset, in[i].segment_offset) << i;
    EXPECT_EQ(Bytes(out[i].frames.begin(), out[i].frames.end()), frames[i]) << i;
    EXPECT_GE(out[i].frames.data(), file.data()) << "frames point into the file";
  }
  // The second record: its documented header fields and its zero padding (100 -> 104).
  const uint8_t* second = file.data() + kTailRingHeaderBytes + record_bytes(1);
  EXPECT_EQ(util::load_le<uint32_t>(second), 0x52544B42u);
  EXPECT_EQ(std::string(second, second + 4), "BKTR");
  EXPECT_EQ(util::load_le<uint32_t>(second + 4), 1u);
  EXPECT_EQ(util::load_le<uint64_t>(second + 8), kEpoch);
  EXPECT_EQ(util::load_le<uint32_t>(second + 28), 100u);
  EXPECT_EQ(util::load_le<uint64_t>(second + 48), record_checksum(second, 100));
  EXPECT_EQ(out[1].frames.data(), second + 56);
  for (size_t i = 156; i < 160; ++i) EXPECT_EQ(second[i], 0) << i;
}

TEST_F(TailRingTest, TheDocumentedExampleHasTheseBytes) {
  auto ring = create();
  ASSERT_TRUE(ring);
  EXPECT_EQ(append(*ring, 1, 1, frames_of(448, 1), 1, 64), 504u) << "the next record's position";
  const Bytes file = file_bytes();
  const Bytes head = {0x42, 0x41, 0x54, 0x50, 0x41, 0x4b, 0x54, 0x52, 1, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0};
  EXPECT_EQ(Bytes(file.begin(), file.begin() + 24), head) << "the file header in docs/format.md";
  const Bytes record = {0x42, 0x4b, 0x54, 0x52, 1, 0, 0, 0};
  EXPECT_EQ(Bytes(file.begin() + 4096, file.begin() + 4104), record);
  const Bytes fields = {1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0xc0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(Bytes(file.begin() + 4112, file.begin() + 4144), fields) << "the record header in docs/format.md";
  EXPECT_EQ(Bytes(file.begin() + 4152, file.begin() + 4600), frames_of(448, 1));
  EXPECT_EQ(append(*ring, 2, 1, frames_of(8, 2)), 504u + 64u);
  EXPECT_EQ(util::load_le<uint32_t>(file_bytes().data() + 4600), 0x52544B42u) << "the next record at offset 4600";
}

TEST_F(TailRingTest, ReleaseDropsTheReleasedRecordsAndMovesTheHeaderTail) {
  auto ring = create();
  ASSERT_TRUE(ring);
  const uint64_t first_end = append(*ring, 1, 1, frames_of(40, 1));
  const uint64_t second_end = append(*ring, 2, 1, frames_of(40, 2));
  const uint64_t third_end = append(*ring, 3, 1, frames_of(40, 3));
  ASSERT_EQ(third_end, 3 * record_bytes(40));
  ASSERT_EQ(sequences(decode_tail_ring(file_bytes())), (std::vector<uint64_t>{1, 2, 3}));

  ring->release_to(first_end);
  Bytes file = file_bytes();
  EXPECT_EQ(util::load_le<uint64_t>(file.data() + kTailAt), first_end);
  EXPECT_EQ(sequences(decode_tail_ring(file)), (std::vector<uint64_t>{2, 3}));
  EXPECT_FALSE(ring->empty());

  ring->release_to(second_end);
  ring->release_to(third_end);
  file = file_bytes();
  EXPECT_EQ(util::load_le<uint64_t>(file.data() + kTailAt), third_end);
  EXPECT_TRUE(decode_tail_ring(file).empty());
  EXPECT_TRUE(ring->empty());
  // The tail is outside the header checksum: moving it back brings the records back.
  util::store_le<uint64_t>(file.data() + kTailAt, 0);
  EXPECT_EQ(sequences(decode_tail_ring(file)), (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(TailRingTest, WrapWritesAWrapRecordWhenAtLeast56BytesRemainInTheLap) {
  auto ring = create();
  ASSERT_TRUE(ring);
  // 30,720 + 30,664 bytes leave exactly 56 bytes of the lap: room for a wrap record only.
  const uint64_t first_end = append(*ring, 1, 1, frames_of(30664, 1));
  const uint64_t second_end = append(*ring, 2, 1, frames_of(30608, 2));
  ASSERT_EQ(second_end, kCapacity - 56);
  ring->release_to(first_end);
  const Bytes third = frames_of(500, 3);
  const uint64_t third_end = append(*ring, 3, 1, third);
  EXPECT_EQ(third_end, kCapacity + record_bytes(500)) << "the record starts the next lap";

  const Bytes file = file_bytes();
  const uint8_t* wrap = file.data() + file_offset(second_end);
  EXPECT_EQ(util::load_le<uint32_t>(wrap), 0x52544B42u);
  EXPECT_EQ(util::load_le<uint32_t>(wrap + 4), 2u) << "kind wrap";
  EXPECT_EQ(util::load_le<uint64_t>(wrap + 8), kEpoch);
  for (size_t i = 16; i < 48; ++i) EXPECT_EQ(wrap[i], 0) << i;
  EXPECT_EQ(util::load_le<uint64_t>(wrap + 48), util::checksum64({wrap, 48}));

  const std::vector<TailRecord> records = decode_tail_ring(file);
  ASSERT_EQ(sequences(records), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(records[1].frames.data(), file.data() + kTailRingHeaderBytes + 56) << "at the area's start";
  EXPECT_EQ(Bytes(records[1].frames.begin(), records[1].frames.end()), third);

  // The wrap record is what leads a reader to the next lap: without it, the walk stops.
  Bytes unwrapped = file;
  unwrapped[file_offset(second_end)] ^= 0xFF;
  EXPECT_EQ(sequences(decode_tail_ring(unwrapped)), (std::vector<uint64_t>{2}));
}

TEST_F(TailRingTest, WrapSkipsFewerThan56BytesAtTheLapEndWithoutARecord) {
  auto ring = create();
  ASSERT_TRUE(ring);
  // Two records of 30,696 bytes leave 48 bytes of the lap.
  const uint64_t first_end = append(*ring, 1, 1, frames_of(30640, 1));
  const uint64_t second_end = append(*ring, 2, 2, frames_of(30640, 2));
  ASSERT_EQ(second_end, kCapacity - 48);
  ring->release_to(first_end);
  const Bytes before = file_bytes();
  const uint64_t third_end = append(*ring, 4, 1, frames_of(100, 3));
  EXPECT_EQ(third_end, kCapacity + record_bytes(100)) << "the record starts the next lap";

  const Bytes file = file_bytes();
  for (size_t i = file_offset(second_end); i < file.size(); ++i) ASSERT_EQ(file[i], 0) << "byte " << i;
  EXPECT_NE(before, file);
  const std::vector<TailRecord> records = decode_tail_ring(file);
  ASSERT_EQ(sequences(records), (std::vector<uint64_t>{2, 4}));
  EXPECT_EQ(records[1].frames.data(), file.data() + kTailRingHeaderBytes + 56);
}

TEST_F(TailRingTest, AppendRefusedWhenFullWritesNothing) {
  auto ring = create();
  ASSERT_TRUE(ring);
  append(*ring, 1, 1, frames_of(30000, 1));
  const uint64_t second_end = append(*ring, 2, 1, frames_of(30000, 2));
  ASSERT_EQ(second_end, 2 * record_bytes(30000));  // 1,328 bytes left, all free.
  const Bytes before = file_bytes();
  ASSERT_EQ(decode_tail_ring(before).size(), 2u);

  // 2,056 bytes do not fit in the lap, so they would skip to the next one (through a wrap
  // record), where the first record is not released.
  EXPECT_TRUE(ring->fits(2000));
  EXPECT_FALSE(ring->has_room(2000));
  EXPECT_FALSE(ring->append(TailRecord{3, 1, 1, 64, frames_of(2000, 3)}).has_value());
  const Bytes after = file_bytes();
  EXPECT_EQ(after, before) << "not even a wrap record";
  EXPECT_EQ(sequences(decode_tail_ring(after)), (std::vector<uint64_t>{1, 2}));
  // What is left before the lap's end still takes a record.
  EXPECT_TRUE(ring->has_room(1328 - 56));
  EXPECT_FALSE(ring->has_room(1328 - 56 + 1));
}

TEST_F(TailRingTest, ReleaseMakesRoomAgain) {
  auto ring = create();
  ASSERT_TRUE(ring);
  const uint64_t first_end = append(*ring, 1, 1, frames_of(30000, 1));
  append(*ring, 2, 1, frames_of(30000, 2));
  const Bytes third = frames_of(30000, 3);
  ASSERT_FALSE(ring->has_room(third.size()));
  ASSERT_EQ(append(*ring, 3, 1, third), 0u);

  ring->release_to(first_end);
  // Exactly the room needed: 1,328 skipped bytes and 30,056 of record. The skipped bytes
  // count: 8 bytes more would fit in the free space, but not after the skip.
  EXPECT_FALSE(ring->has_room(third.size() + 8));
  EXPECT_EQ(append(*ring, 3, 1, frames_of(third.size() + 8, 3)), 0u);
  EXPECT_TRUE(ring->has_room(third.size()));
  EXPECT_EQ(append(*ring, 3, 1, third), kCapacity + record_bytes(30000));
  EXPECT_FALSE(ring->has_room(1));
  EXPECT_EQ(sequences(decode_tail_ring(file_bytes())), (std::vector<uint64_t>{2, 3}));
}

TEST_F(TailRingTest, CreatingTheRingAgainWithAnotherEpochLeavesNoRecords) {
  {
    auto ring = create(kEpoch);
    ASSERT_TRUE(ring);
    append(*ring, 1, 1, frames_of(40, 1));
    append(*ring, 2, 1, frames_of(40, 2));
    ASSERT_EQ(decode_tail_ring(file_bytes()).size(), 2u);
  }
  auto ring = create(kEpoch + 1);
  ASSERT_TRUE(ring);
  const Bytes file = file_bytes();
  EXPECT_EQ(util::load_le<uint64_t>(file.data() + 24), kEpoch + 1);
  EXPECT_TRUE(decode_tail_ring(file).empty());
  for (size_t i = kTailRingHeaderBytes; i < file.size(); ++i) ASSERT_EQ(file[i], 0) << "byte " << i;
  EXPECT_TRUE(ring->empty());
  EXPECT_EQ(append(*ring, 9, 1, frames_of(40, 9)), record_bytes(40)) << "the new ring starts at position 0";
}

TEST_F(TailRingTest, ARecordOfAnotherEpochStopsDecode) {
  auto ring = create();
  ASSERT_TRUE(ring);
  const uint64_t first_end = append(*ring, 1, 1, frames_of(40, 1));
  append(*ring, 2, 1, frames_of(40, 2));
  append(*ring, 3, 1, frames_of(40, 3));
  Bytes file = file_bytes();
  const size_t second = file_offset(first_end);
  reseal(file, second);
  ASSERT_EQ(decode_tail_ring(file).size(), 3u) << "resealing alone changes nothing";
  util::store_le<uint64_t>(file.data() + second + 8, kEpoch + 1);
  reseal(file, second);
  EXPECT_EQ(sequences(decode_tail_ring(file)), (std::vector<uint64_t>{1}));
}

TEST_F(TailRingTest, EveryFlippedByteOfARecordStopsDecodeBeforeIt) {
  auto ring = create();
  ASSERT_TRUE(ring);
  const uint64_t first_end = append(*ring, 1, 2, frames_of(64, 1));
  const uint64_t second_end = append(*ring, 3, 1, frames_of(48, 2));
  append(*ring, 4, 1, frames_of(64, 3));
  const Bytes file = file_bytes();
  ASSERT_EQ(decode_tail_ring(file).size(), 3u);
  const size_t second = file_offset(first_end);
  ASSERT_EQ(second_end - first_end, 56u + 48u) << "header and frames, no padding";
  for (size_t i = 0; i < second_end - first_end; ++i) {
    for (uint8_t flip : {uint8_t{0x01}, uint8_t{0x80}}) {
      Bytes damaged = file;
      damaged[second + i] ^= flip;
      const std::vector<TailRecord> records = decode_tail_ring(damaged);
      ASSERT_EQ(sequences(records), (std::vector<uint64_t>{1})) << "byte " << i << " flip " << int{flip};
      EXPECT_EQ(records[0].event_count, 2u);
    }
  }
}

TEST_F(TailRingTest, ABrokenFileHeaderGivesNoRecords) {
  auto ring = create();
  ASSERT_TRUE(ring);
  append(*ring, 1, 1, frames_of(40, 1));
  const Bytes file = file_bytes();
  ASSERT_EQ(decode_tail_ring(file).size(), 1u);
  for (size_t i = 0; i < 40; ++i) {
    Bytes damaged = file;
    damaged[i] ^= 0x04;
    EXPECT_TRUE(decode_tail_ring(damaged).empty()) << "byte " << i;
  }
  // Fields a checksum cannot vouch for, sealed anyway: version 2, header bytes 64, ring bytes
  // other than the file's, epoch 0.
  for (const auto& [at, value] :
       std::vector<std::pair<size_t, uint64_t>>{{8, 2}, {12, 64}, {16, kRingBytes + 4096}, {16, 4096}, {24, 0}}) {
    Bytes resealed = file;
    if (at == 24) {
      // Its record carries the same epoch 0, so only the header rule can refuse it.
      util::store_le<uint64_t>(resealed.data() + at, value);
      util::store_le<uint64_t>(resealed.data() + kTailRingHeaderBytes + 8, value);
      reseal(resealed, kTailRingHeaderBytes);
    } else if (at == 16) {
      util::store_le<uint64_t>(resealed.data() + at, value);
    } else {
      util::store_le<uint32_t>(resealed.data() + at, static_cast<uint32_t>(value));
    }
    util::store_le<uint64_t>(resealed.data() + 32, util::checksum64({resealed.data(), 32}));
    EXPECT_TRUE(decode_tail_ring(resealed).empty()) << "field at " << at;
  }
  Bytes unaligned_tail = file;
  util::store_le<uint64_t>(unaligned_tail.data() + kTailAt, 4);
  EXPECT_TRUE(decode_tail_ring(unaligned_tail).empty());
}

TEST_F(TailRingTest, ASealedRecordWithNoEventOrNoFrameByteStopsDecode) {
  auto ring = create();
  ASSERT_TRUE(ring);
  const uint64_t first_end = append(*ring, 1, 1, frames_of(40, 1));
  append(*ring, 2, 1, frames_of(40, 2));
  append(*ring, 3, 1, frames_of(40, 3));
  const Bytes file = file_bytes();
  const size_t second = file_offset(first_end);
  for (const size_t field : {size_t{24}, size_t{28}}) {  // Event count, frame bytes.
    Bytes damaged = file;
    util::store_le<uint32_t>(damaged.data() + second + field, 0);
    reseal(damaged, second);
    EXPECT_EQ(sequences(decode_tail_ring(damaged)), (std::vector<uint64_t>{1})) << "field at " << field;
  }
}

TEST_F(TailRingTest, AWrapRecordWithAFieldSetStopsDecode) {
  auto ring = create();
  ASSERT_TRUE(ring);
  const uint64_t first_end = append(*ring, 1, 1, frames_of(30000, 1));
  const uint64_t second_end = append(*ring, 2, 1, frames_of(30000, 2));
  ring->release_to(first_end);
  ASSERT_EQ(append(*ring, 3, 1, frames_of(2000, 3)), kCapacity + record_bytes(2000));
  const Bytes file = file_bytes();
  ASSERT_EQ(sequences(decode_tail_ring(file)), (std::vector<uint64_t>{2, 3}));
  const size_t wrap = file_offset(second_end);
  for (const size_t field : {size_t{16}, size_t{24}, size_t{32}, size_t{40}}) {
    Bytes damaged = file;
    damaged[wrap + field] = 1;
    reseal(damaged, wrap);
    EXPECT_EQ(sequences(decode_tail_ring(damaged)), (std::vector<uint64_t>{2})) << "field at " << field;
  }
}

TEST_F(TailRingTest, AFirstSequenceGapStopsDecode) {
  auto ring = create();
  ASSERT_TRUE(ring);
  append(*ring, 1, 2, frames_of(40, 1));
  append(*ring, 3, 1, frames_of(40, 2));
  append(*ring, 5, 1, frames_of(40, 3));  // 4 is missing.
  append(*ring, 6, 1, frames_of(40, 4));
  EXPECT_EQ(sequences(decode_tail_ring(file_bytes())), (std::vector<uint64_t>{1, 3}));
}

TEST_F(TailRingTest, AnIntactRecordOfThePreviousLapAfterTheNewestIsNotReturned) {
  auto ring = create();
  ASSERT_TRUE(ring);
  // Lap 1: A and B of 1,056 bytes each, then F1 and F2 up to the lap's end exactly.
  const Bytes small = frames_of(1000, 1);
  append(*ring, 1, 1, small);
  const uint64_t b_end = append(*ring, 2, 1, frames_of(1000, 2));
  const uint64_t f1_end = append(*ring, 3, 1, frames_of(30000, 3));
  const uint64_t f2_end = append(*ring, 4, 1, frames_of(kCapacity - f1_end - 56, 4));
  ASSERT_EQ(f2_end, kCapacity);
  ring->release_to(f1_end);
  // Lap 2: C overwrites A exactly, so B, intact, of this epoch, follows the newest record.
  const uint64_t c_end = append(*ring, 5, 1, small);
  ASSERT_EQ(c_end, kCapacity + record_bytes(1000));
  ASSERT_EQ(file_offset(c_end), file_offset(b_end - record_bytes(1000)));

  Bytes file = file_bytes();
  EXPECT_EQ(sequences(decode_tail_ring(file)), (std::vector<uint64_t>{4, 5}));
  // B is intact: given the next sequence, the walk would take it.
  const size_t b = file_offset(c_end);
  ASSERT_EQ(util::load_le<uint64_t>(file.data() + b + 16), 2u);
  util::store_le<uint64_t>(file.data() + b + 16, 6);
  reseal(file, b);
  EXPECT_EQ(sequences(decode_tail_ring(file)), (std::vector<uint64_t>{4, 5, 6}));
}

TEST_F(TailRingTest, FitsAtItsExactBoundaryOfHalfTheRecordArea) {
  auto ring = create();
  ASSERT_TRUE(ring);
  // 56 + 30,664 = 30,720 = 61,440 / 2.
  EXPECT_TRUE(ring->fits(30664));
  EXPECT_FALSE(ring->fits(30665));
  EXPECT_TRUE(ring->fits(1));
  EXPECT_FALSE(ring->fits(std::numeric_limits<uint64_t>::max()));
  EXPECT_FALSE(ring->fits(uint64_t{1} << 32));
  EXPECT_TRUE(ring->has_room(30664));
  EXPECT_EQ(append(*ring, 1, 1, frames_of(30664, 1)), kCapacity / 2);

  auto bigger = TailRing::create(*posix_fs(), tmp_.path(), 128u << 10, kEpoch);
  ASSERT_TRUE(bigger.has_value());
  const uint64_t half = ((128u << 10) - kTailRingHeaderBytes) / 2;  // 63,488.
  EXPECT_TRUE((*bigger)->fits(half - 56));
  EXPECT_FALSE((*bigger)->fits(half - 56 + 1));
}

TEST_F(TailRingTest, CreateRefusesBadArguments) {
  for (const auto& [ring_bytes, epoch] : std::vector<std::pair<uint64_t, uint64_t>>{
           {kTailRingBytesMin - 4096, kEpoch}, {kTailRingBytesMin + 8, kEpoch}, {kTailRingBytesMin + 2048, kEpoch},
           {0, kEpoch}, {kTailRingBytesMin, 0}}) {
    auto ring = TailRing::create(*posix_fs(), tmp_.path(), ring_bytes, epoch);
    ASSERT_FALSE(ring.has_value()) << ring_bytes << " " << epoch;
    EXPECT_EQ(ring.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_FALSE(posix_fs()->exists(path()).value_or(true)) << "refused before creating the file";
  EXPECT_TRUE(TailRing::create(*posix_fs(), tmp_.path(), kTailRingBytesMin, kEpoch).has_value());
}

TEST_F(TailRingTest, CreateOnAFileSystemThatCannotMapIsUnsupported) {
  batpak::testing::FaultFs fs;  // Passes everything to posix_fs() but map_shared: kUnsupported.
  auto ring = TailRing::create(fs, tmp_.path(), kRingBytes, kEpoch);
  ASSERT_FALSE(ring.has_value());
  EXPECT_EQ(ring.error().code, ErrorCode::kUnsupported);
}

TEST_F(TailRingTest, ATruncatedOrLengthenedFileGivesNoRecords) {
  auto ring = create();
  ASSERT_TRUE(ring);
  append(*ring, 1, 1, frames_of(40, 1));
  const Bytes file = file_bytes();
  ASSERT_EQ(decode_tail_ring(file).size(), 1u);
  const std::span<const uint8_t> all(file);
  for (size_t n : {size_t{0}, size_t{64}, size_t{4095}, size_t{4096}, size_t{4200}, file.size() - 8, file.size() - 1}) {
    EXPECT_TRUE(decode_tail_ring(all.first(n)).empty()) << n << " bytes";
  }
  Bytes longer = file;
  longer.resize(file.size() + 8, 0);
  EXPECT_TRUE(decode_tail_ring(longer).empty());
}

}  // namespace
}  // namespace batpak::writer
