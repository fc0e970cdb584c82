// Fs::read_batch: posix_fs() (io_uring where the kernel allows), the default one-by-one
// reads, and io::UringReader itself read the same bytes, short only at the end of a file.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "batpak/env.hpp"
#include "io/uring_reader.hpp"
#include "support/temp_dir.hpp"

namespace batpak {
namespace {

constexpr size_t kFileBytes = 3u << 20;

uint8_t byte_at(uint64_t offset) { return static_cast<uint8_t>((offset * 131) ^ (offset >> 9)); }

// An Fs that keeps the default read_batch (one pread per request) and forwards the rest.
class OneByOneFs final : public Fs {
 public:
  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override { return inner_->open(path, mode); }
  Status create_dir(const std::string& path) override { return inner_->create_dir(path); }
  Result<std::vector<std::string>> list_dir(const std::string& path) override { return inner_->list_dir(path); }
  Result<bool> exists(const std::string& path) override { return inner_->exists(path); }
  Status remove(const std::string& path) override { return inner_->remove(path); }
  Status rename(const std::string& from, const std::string& to) override { return inner_->rename(from, to); }
  Status sync_dir(const std::string& path) override { return inner_->sync_dir(path); }
  Result<std::unique_ptr<FileLock>> lock(const std::string& path) override { return inner_->lock(path); }

 private:
  std::shared_ptr<Fs> inner_ = posix_fs();
};

class ReadBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = tmp_.sub("data");
    auto file = posix_fs()->open(path_, Fs::OpenMode::kCreateReadWrite);
    ASSERT_TRUE(file.has_value());
    std::vector<uint8_t> bytes(kFileBytes);
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = byte_at(i);
    ASSERT_TRUE((*file)->pwrite(0, bytes).has_value());
  }

  // 300 scattered reads (more than a ring holds at once), one of 1 MiB, one across the end
  // of the file, one at its end; each into its own buffer.
  struct Plan {
    std::vector<std::vector<uint8_t>> buffers;
    std::vector<ReadRequest> requests;
  };
  static Plan plan(File* file) {
    Plan p;
    for (uint64_t i = 0; i < 300; ++i) {
      const uint64_t offset = (i * 7919 * 1031) % (kFileBytes - 4096);
      p.buffers.emplace_back(1 + (i * 37) % 700);
      p.requests.push_back(ReadRequest{file, offset, {}, 0});
    }
    p.buffers.emplace_back(1u << 20);
    p.requests.push_back(ReadRequest{file, 12345, {}, 0});
    p.buffers.emplace_back(1000);
    p.requests.push_back(ReadRequest{file, kFileBytes - 100, {}, 0});
    p.buffers.emplace_back(10);
    p.requests.push_back(ReadRequest{file, kFileBytes, {}, 0});
    for (size_t i = 0; i < p.requests.size(); ++i) p.requests[i].data = p.buffers[i];
    return p;
  }
  static void expect_read(const Plan& p) {
    for (size_t i = 0; i < p.requests.size(); ++i) {
      const ReadRequest& r = p.requests[i];
      const uint64_t want = std::min<uint64_t>(r.data.size(), kFileBytes - std::min(r.offset, kFileBytes));
      ASSERT_EQ(r.got, want) << "request " << i;
      for (size_t k = 0; k < r.got; ++k) {
        if (r.data[k] != byte_at(r.offset + k)) FAIL() << "request " << i << " byte " << k;
      }
    }
  }
  void read_with(Fs& fs) {
    auto file = fs.open(path_, Fs::OpenMode::kRead);
    ASSERT_TRUE(file.has_value());
    Plan p = plan(file->get());
    ASSERT_TRUE(fs.read_batch(p.requests).has_value());
    expect_read(p);
  }

  testing::TempDir tmp_;
  std::string path_;
};

TEST_F(ReadBatchTest, PosixFsReadsEveryRequestShortOnlyAtTheEnd) { read_with(*posix_fs()); }

TEST_F(ReadBatchTest, TheDefaultOneByOneReadsAgree) {
  OneByOneFs fs;
  read_with(fs);
}

// A forked child must not share its parent's ring (both would move the same indexes): it
// makes its own, and the parent's keeps working.
TEST_F(ReadBatchTest, AForkedChildAndItsParentBothReadCorrectly) {
  read_with(*posix_fs());  // The parent's ring now exists (where the kernel allows one).
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto file = posix_fs()->open(path_, Fs::OpenMode::kRead);
    if (!file) ::_exit(2);
    Plan p = plan(file->get());
    if (!posix_fs()->read_batch(p.requests)) ::_exit(3);
    for (const ReadRequest& r : p.requests) {
      for (size_t k = 0; k < r.got; ++k) {
        if (r.data[k] != byte_at(r.offset + k)) ::_exit(4);
      }
    }
    ::_exit(p.requests.back().got == 0 && p.requests.front().got == p.requests.front().data.size() ? 0 : 5);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  read_with(*posix_fs());
}

TEST_F(ReadBatchTest, UringReaderReadsEveryRequestAndReportsAFailedOneAlone) {
  io::UringReader* reader = io::UringReader::for_this_thread();
  if (reader == nullptr) GTEST_SKIP() << "the kernel refuses io_uring here; posix_fs() reads one by one";
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  Plan p = plan(nullptr);
  std::vector<io::UringRead> reads;
  for (const ReadRequest& r : p.requests) reads.push_back(io::UringRead{fd, r.offset, r.data, 0, 0});
  std::vector<uint8_t> lost(16);
  reads.push_back(io::UringRead{-1, 0, lost, 0, 0});  // A bad descriptor fails alone.
  ASSERT_TRUE(reader->read_all(reads).has_value());
  EXPECT_EQ(reads.back().error, EBADF);
  reads.pop_back();
  for (size_t i = 0; i < reads.size(); ++i) {
    EXPECT_EQ(reads[i].error, 0) << i;
    p.requests[i].got = reads[i].got;
  }
  expect_read(p);
  ::close(fd);
}

}  // namespace
}  // namespace batpak
