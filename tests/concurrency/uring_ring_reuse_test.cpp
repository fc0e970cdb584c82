// io::UringReader keeps one io_uring per thread. When a thread ends, its ring is unmapped, and
// the kernel may map the next thread's ring at the same addresses. Each test names the
// property it proves; under ThreadSanitizer, a ring whose uses are not ordered after the
// previous owner's shows as a data race on the reused memory.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "batpak/env.hpp"
#include "support/temp_dir.hpp"

namespace batpak {
namespace {

// Reads 8 requests through `fs`'s batched read and checks their bytes.
void read_batch_and_check(Fs& fs, File* file, const std::vector<uint8_t>& bytes, uint64_t shift) {
  std::vector<std::vector<uint8_t>> buffers(8, std::vector<uint8_t>(512));
  std::vector<ReadRequest> requests;
  for (size_t i = 0; i < buffers.size(); ++i) requests.push_back(ReadRequest{file, i * 4096 + shift, buffers[i], 0});
  ASSERT_TRUE(fs.read_batch(requests).has_value());
  for (const ReadRequest& r : requests) {
    ASSERT_EQ(r.got, r.data.size());
    for (size_t k = 0; k < r.got; ++k) ASSERT_EQ(r.data[k], bytes[r.offset + k]);
  }
}

// Threads that each make a batched read and end, the next one reading only after the last
// one ended: every read returns the file's bytes, and no ring's memory is seen shared
// between two threads. The threads run side by side and only a relaxed flag (which orders
// nothing for ThreadSanitizer) and a pause tell one when the last has ended, as with
// unrelated reader threads in an application; joining each before starting the next would
// order them and hide the reuse. So would other shared state: the readers share one Fs
// reference and one open file, made before (a copy of a shared_ptr is an acquire-release
// operation, and ThreadSanitizer orders a close before an open that gets its descriptor).
TEST(UringRingReuse, ThreadsThatComeAndGoEachReadThroughTheirOwnRing) {
  testing::TempDir tmp;
  const std::string path = tmp.sub("data");
  std::vector<uint8_t> bytes(64 * 1024);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 131);
  const std::shared_ptr<Fs> fs = posix_fs();
  auto file = fs->open(path, Fs::OpenMode::kCreateReadWrite);
  ASSERT_TRUE(file.has_value());
  ASSERT_TRUE((*file)->pwrite(0, bytes).has_value());
  constexpr int kThreads = 12;
  std::atomic<int> finished{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < kThreads; ++i) {
    readers.emplace_back([&, i] {
      while (finished.load(std::memory_order_relaxed) < i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));  // The last reader's thread exits meanwhile.
      read_batch_and_check(*fs, file->get(), bytes, static_cast<uint64_t>(i));
      finished.fetch_add(1, std::memory_order_relaxed);
    });
  }
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(finished.load(), kThreads);
}

}  // namespace
}  // namespace batpak
