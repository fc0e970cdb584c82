// The manifest (docs/format.md, "The manifest"): its bytes, every rule its decoder enforces,
// and the message that names missing segments.
#include <gtest/gtest.h>

#include <filesystem>

#include "segment/manifest.hpp"
#include "support/assertions.hpp"
#include "support/codec_damage.hpp"
#include "support/reseal.hpp"
#include "support/temp_dir.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"

namespace batpak::segment {
namespace {

using testing::reseal;

TEST(Manifest, RoundTripsAndHasTheDocumentedBytes) {
  const std::vector<uint8_t> bytes = encode_manifest({3, 4096});
  ASSERT_EQ(bytes.size(), 32u);
  const std::vector<uint8_t> head = {0x42, 0x50, 0x4d, 0x46, 1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0,
                                     0, 0x10, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 24), head) << "the example in docs/format.md";
  EXPECT_EQ(util::load_le<uint64_t>(bytes.data() + 24), util::checksum64({bytes.data(), 24}));
  auto decoded = decode_manifest(bytes);
  ASSERT_TRUE(decoded) << decoded.error().to_string();
  EXPECT_EQ(*decoded, (Manifest{3, 4096}));
  const Manifest extremes{UINT64_MAX, UINT64_MAX};
  EXPECT_EQ(decode_manifest(encode_manifest(extremes)).value_or(Manifest{}), extremes);
  EXPECT_EQ(decode_manifest(encode_manifest({1, 0})).value_or(Manifest{}), (Manifest{1, 0})) << "no clean close";
}

TEST(Manifest, EveryTruncationAndEveryFlippedBitIsCorruption) {
  testing::expect_every_truncation_and_bit_flip_is_corruption(
      encode_manifest({7, 640}), [](std::span<const uint8_t> bytes) { return decode_manifest(bytes); });
}

TEST(Manifest, SegmentZeroALongerBodyAndAReservedFieldAreCorruption) {
  std::vector<uint8_t> zero = encode_manifest({0, 64});
  EXPECT_EQ(decode_manifest(zero).error().code, ErrorCode::kCorruption);
  std::vector<uint8_t> longer = encode_manifest({5, 0});
  longer.insert(longer.begin() + 24, 8, 0);
  reseal(longer);
  EXPECT_EQ(decode_manifest(longer).error().code, ErrorCode::kCorruption);
  std::vector<uint8_t> reserved = encode_manifest({5, 0});
  reserved[6] = 1;
  reseal(reserved);
  EXPECT_EQ(decode_manifest(reserved).error().code, ErrorCode::kCorruption);
}

TEST(Manifest, ANewerVersionIsUnsupported) {
  std::vector<uint8_t> bytes = encode_manifest({5, 0});
  bytes[4] = 2;
  reseal(bytes);
  auto r = decode_manifest(bytes);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnsupported) << r.error().to_string();
}

TEST(Manifest, ReadsNothingWhenAbsentWhatWasWrittenAndNamesADamagedFile) {
  testing::TempDir tmp;
  auto fs = posix_fs();
  auto absent = read_manifest(*fs, tmp.path());
  ASSERT_TRUE(absent) << absent.error().to_string();
  EXPECT_FALSE(absent->has_value());
  BATPAK_ASSERT_OK(write_manifest(*fs, tmp.path(), {4, 100}));
  BATPAK_ASSERT_OK(write_manifest(*fs, tmp.path(), {9, 0}));
  auto read = read_manifest(*fs, tmp.path());
  ASSERT_TRUE(read) << read.error().to_string();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ(**read, (Manifest{9, 0}));
  EXPECT_FALSE(std::filesystem::exists(tmp.sub("manifest.tmp")));
  {
    auto file = fs->open(tmp.sub("manifest"), Fs::OpenMode::kReadWrite);
    ASSERT_TRUE(file);
    BATPAK_ASSERT_OK((*file)->pwrite(8, std::vector<uint8_t>{0xff}));
  }
  auto damaged = read_manifest(*fs, tmp.path());
  ASSERT_FALSE(damaged);
  EXPECT_EQ(damaged.error().code, ErrorCode::kCorruption);
  EXPECT_EQ(damaged.error().file, tmp.sub("manifest"));
}

TEST(Manifest, MissingNewestSegmentsNameTheFirstMissingFile) {
  const std::vector<uint64_t> ids{1, 2, 3};
  EXPECT_FALSE(missing_newest_segments("/d", ids, 3));
  EXPECT_FALSE(missing_newest_segments("/d", ids, 2)) << "the manifest is a lower bound: newer files may exist";
  auto one = missing_newest_segments("/d", ids, 4);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->code, ErrorCode::kCorruption);
  EXPECT_EQ(one->file, "/d/000000000004.seg");
  EXPECT_NE(one->message.find("segment 4 is missing"), std::string::npos) << one->message;
  auto several = missing_newest_segments("/d", ids, 6);
  ASSERT_TRUE(several);
  EXPECT_NE(several->message.find("segments 4 to 6 are missing"), std::string::npos) << several->message;
  auto all = missing_newest_segments("/d", {}, 2);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->file, "/d/000000000001.seg");
}

}  // namespace
}  // namespace batpak::segment
