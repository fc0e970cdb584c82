// segment::SegmentSet keeps at most open_files_max segment files open (the newest always,
// then the most recently used), reopens a closed one when it is read, and never closes a
// file under a caller that holds it. Descriptors are counted from /proc/self/fd.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "batpak/env.hpp"
#include "segment/segment_files.hpp"
#include "segment/segment_set.hpp"
#include "support/assertions.hpp"
#include "support/open_fds.hpp"
#include "support/temp_dir.hpp"

namespace batpak {
namespace {

constexpr size_t kSegments = 10;
constexpr size_t kOpenMax = 3;

class SegmentSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (uint64_t id = 1; id <= kSegments; ++id) {
      std::ofstream(path(id)) << "segment " << id;  // Distinct contents, to tell files apart.
      auto file = fs_->open(path(id), Fs::OpenMode::kRead);
      ASSERT_TRUE(file.has_value()) << file.error().to_string();
      set_.add(id, std::move(*file), 100 + id);
    }
  }
  std::string path(uint64_t id) const { return segment::join_path(dir_.path(), segment::segment_file_name(id)); }
  size_t segment_fds() const { return testing::open_fds_in(dir_.path(), ".seg"); }
  // The first bytes of the file the set returns for `id`.
  std::string read_head(uint64_t id) {
    auto file = set_.file(id);
    EXPECT_TRUE(file.has_value()) << file.error().to_string();
    if (!file) return {};
    std::vector<uint8_t> bytes(32);
    auto got = (*file)->pread(0, bytes);
    EXPECT_TRUE(got.has_value());
    return std::string(bytes.begin(), bytes.begin() + static_cast<long>(got.value_or(0)));
  }

  testing::TempDir dir_;
  std::shared_ptr<Fs> fs_ = posix_fs();
  segment::SegmentSet set_{dir_.path(), *fs_, kOpenMax};
};

TEST_F(SegmentSetTest, AddingMoreSegmentsThanTheLimitKeepsOnlyTheLimitOpen) {
  EXPECT_EQ(set_.open_files(), kOpenMax);
  EXPECT_EQ(segment_fds(), kOpenMax);
  const std::vector<segment::SegmentSet::Snapshot> all = set_.snapshot();  // Closed ones are still known.
  ASSERT_EQ(all.size(), kSegments);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].segment_id, i + 1);
    EXPECT_EQ(all[i].visible_end, 101 + i);
  }
}

TEST_F(SegmentSetTest, AClosedSegmentIsOpenedAgainAndEvictsTheLeastRecentlyUsed) {
  // Open now: 10 (newest), 9, 8. Reading 1 reopens it and closes 8, the least recently used.
  EXPECT_EQ(read_head(1), "segment 1");
  EXPECT_EQ(set_.open_files(), kOpenMax);
  EXPECT_EQ(segment_fds(), kOpenMax);
  const size_t fds_before = segment_fds();
  EXPECT_EQ(read_head(9), "segment 9");  // Still open: no descriptor opened or closed.
  EXPECT_EQ(segment_fds(), fds_before);
  // Reading every segment, oldest first, twice: the limit holds, contents stay right.
  for (int round = 0; round < 2; ++round) {
    for (uint64_t id = 1; id <= kSegments; ++id) {
      EXPECT_EQ(read_head(id), "segment " + std::to_string(id));
      EXPECT_LE(segment_fds(), kOpenMax);
    }
  }
}

TEST_F(SegmentSetTest, TheLeastRecentlyUsedIsTheOneClosed) {
  // Open: 10 (newest), 9, 8. Reading 1 opens it and must close 8, not 9. Removing both
  // files tells which is still open: only an open file can still be read.
  EXPECT_EQ(read_head(1), "segment 1");
  ASSERT_EQ(std::remove(path(9).c_str()), 0);
  ASSERT_EQ(std::remove(path(8).c_str()), 0);
  EXPECT_EQ(read_head(9), "segment 9");
  BATPAK_EXPECT_ERROR(set_.file(8), ErrorCode::kIo);
}

TEST_F(SegmentSetTest, TheNewestSegmentIsNeverClosed) {
  for (int round = 0; round < 3; ++round) {
    for (uint64_t id = 1; id < kSegments; ++id) EXPECT_EQ(read_head(id), "segment " + std::to_string(id));
  }
  // The newest was never read, so it is the least recently used, yet still open: reading
  // it opens nothing new.
  const size_t opened = segment_fds();
  auto newest = set_.file(kSegments);
  ASSERT_TRUE(newest.has_value());
  EXPECT_EQ(segment_fds(), opened);
  EXPECT_EQ(set_.open_files(), kOpenMax);
}

TEST_F(SegmentSetTest, AFileHeldByACallerStaysOpenAfterTheSetClosesIt) {
  BATPAK_ASSERT_OK_AND_ASSIGN(held, set_.file(1));
  for (uint64_t id = 2; id < kSegments; ++id) (void)read_head(id);  // 1 is evicted from the set.
  EXPECT_EQ(set_.open_files(), kOpenMax);
  EXPECT_EQ(segment_fds(), kOpenMax + 1);  // The set's three, and the caller's.
  std::vector<uint8_t> bytes(9);
  BATPAK_ASSERT_OK_AND_ASSIGN(got, held->pread(0, bytes));
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + static_cast<long>(got)), "segment 1");
  held.reset();
  EXPECT_EQ(segment_fds(), kOpenMax);
}

TEST_F(SegmentSetTest, AnUnknownSegmentIsMissingAndAVanishedFileIsTheFileSystemsError) {
  BATPAK_EXPECT_ERROR(set_.file(kSegments + 1), ErrorCode::kCorruption);
  ASSERT_EQ(std::remove(path(1).c_str()), 0);  // Closed by the set, then removed behind its back.
  auto gone = set_.file(1);
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code, ErrorCode::kIo) << gone.error().to_string();
  EXPECT_EQ(gone.error().file, path(1));
  EXPECT_LE(segment_fds(), kOpenMax);
}

TEST_F(SegmentSetTest, ReplacingASegmentsFileKeepsOneEntryAndTheLimit) {
  BATPAK_ASSERT_OK_AND_ASSIGN(again, fs_->open(path(kSegments), Fs::OpenMode::kRead));
  set_.add(kSegments, std::move(again), 500);  // As recovery does after cutting a torn tail.
  EXPECT_EQ(set_.snapshot().size(), kSegments);
  EXPECT_EQ(set_.snapshot().back().visible_end, 500u);
  EXPECT_EQ(set_.open_files(), kOpenMax);
  EXPECT_EQ(segment_fds(), kOpenMax);
}

}  // namespace
}  // namespace batpak
