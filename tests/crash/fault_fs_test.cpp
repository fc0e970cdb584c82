// The FaultFs helper itself: the crash states it produces are exactly the ones it claims,
// so the crash tests built on it prove something.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "support/fault_fs.hpp"
#include "support/store_invariants.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::span<const uint8_t> span_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(FaultFsTest, CrashKeepsSyncedBytesAndDropsEveryUnsyncedChange) {
  TempDir tmp;
  auto fs = std::make_shared<FaultFs>();
  const std::string path = tmp.sub("f");
  BATPAK_ASSERT_OK_AND_ASSIGN(file, fs->open(path, Fs::OpenMode::kCreateReadWrite));
  BATPAK_ASSERT_OK(file->pwrite(0, span_of("aaaa")));
  BATPAK_ASSERT_OK(file->sync());
  BATPAK_ASSERT_OK(file->pwrite(4, span_of("bbbb")));
  BATPAK_ASSERT_OK(file->pwrite(0, span_of("AA")));
  BATPAK_ASSERT_OK(file->truncate(6));
  ASSERT_EQ(fs->pending().size(), 3u);
  EXPECT_EQ(read_all(path), "AAaabb");
  BATPAK_ASSERT_OK(fs->crash());
  EXPECT_EQ(read_all(path), "aaaa");
  // After the crash the old handles are dead: nothing reaches the disk any more.
  BATPAK_EXPECT_ERROR(file->pwrite(0, span_of("zz")), ErrorCode::kIo);
  EXPECT_EQ(read_all(path), "aaaa");
}

TEST(FaultFsTest, CrashCanKeepSomeWritesAndTearTheNextOne) {
  TempDir tmp;
  auto fs = std::make_shared<FaultFs>();
  const std::string path = tmp.sub("f");
  BATPAK_ASSERT_OK_AND_ASSIGN(file, fs->open(path, Fs::OpenMode::kCreateReadWrite));
  BATPAK_ASSERT_OK(file->pwrite(0, span_of("1111")));
  BATPAK_ASSERT_OK(file->pwrite(4, span_of("2222")));
  BATPAK_ASSERT_OK(file->pwrite(8, span_of("3333")));
  BATPAK_ASSERT_OK(fs->crash(/*keep_whole=*/1, /*keep_prefix_bytes=*/3));
  EXPECT_EQ(read_all(path), "1111222");
}

TEST(FaultFsTest, InjectedSyncAndWriteFailuresFireOnceAtTheNthCall) {
  TempDir tmp;
  auto fs = std::make_shared<FaultFs>();
  const std::string path = tmp.sub("f");
  BATPAK_ASSERT_OK_AND_ASSIGN(file, fs->open(path, Fs::OpenMode::kCreateReadWrite));
  fs->fail_nth_sync(2);
  BATPAK_ASSERT_OK(file->sync());
  BATPAK_EXPECT_ERROR(file->sync(), ErrorCode::kIo);
  BATPAK_ASSERT_OK(file->sync_all());
  fs->fail_nth_write(1);
  BATPAK_EXPECT_ERROR(file->pwrite(0, span_of("x")), ErrorCode::kIo);
  EXPECT_EQ(read_all(path), "");  // The failed write wrote nothing.
  BATPAK_ASSERT_OK(file->pwrite(0, span_of("y")));
  EXPECT_EQ(fs->faults_fired(), 2u);
}

TEST(FaultFsTest, FreezeOnFaultStopsEveryLaterChange) {
  TempDir tmp;
  auto fs = std::make_shared<FaultFs>();
  const std::string path = tmp.sub("f");
  BATPAK_ASSERT_OK_AND_ASSIGN(file, fs->open(path, Fs::OpenMode::kCreateReadWrite));
  fs->set_freeze_on_fault(true);
  fs->fail_nth_sync(1);
  BATPAK_ASSERT_OK(file->pwrite(0, span_of("abc")));
  BATPAK_EXPECT_ERROR(file->sync(), ErrorCode::kIo);
  EXPECT_TRUE(fs->frozen());
  BATPAK_EXPECT_ERROR(file->pwrite(3, span_of("def")), ErrorCode::kIo);
  BATPAK_EXPECT_ERROR(file->truncate(0), ErrorCode::kIo);
  EXPECT_EQ(read_all(path), "abc");  // Frozen, not yet crashed: the page cache still has it.
  BATPAK_ASSERT_OK(fs->crash());
  EXPECT_EQ(read_all(path), "");
}

}  // namespace
}  // namespace batpak::testing
