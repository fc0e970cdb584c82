// Production Fs and Clock: POSIX calls, nothing else.
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "batpak/env.hpp"
#include "io/uring_reader.hpp"

namespace batpak {
namespace {

tl::unexpected<Error> io_error(const std::string& what, const std::string& path, int err) {
  Error e{ErrorCode::kIo, what + ": " + std::strerror(err), path, 0, {}};
  return tl::unexpected<Error>(std::move(e));
}

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixFile() override {
    if (mapped_ != nullptr) ::munmap(mapped_, mapped_bytes_);
    ::close(fd_);
  }

  Result<size_t> pread(uint64_t offset, std::span<uint8_t> data) override {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pread(fd_, data.data() + done, data.size() - done,
                          static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return io_error("pread", path_, errno);
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

  Status pwrite(uint64_t offset, std::span<const uint8_t> data) override {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done,
                           static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return io_error("pwrite", path_, errno);
      done += static_cast<size_t>(n);
    }
    return {};
  }

  Status sync() override {
    if (::fdatasync(fd_) != 0) return io_error("fdatasync", path_, errno);
    return {};
  }

  Status sync_all() override {
    if (::fsync(fd_) != 0) return io_error("fsync", path_, errno);
    return {};
  }

  Status truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return io_error("ftruncate", path_, errno);
    return {};
  }

  Result<uint64_t> size() override {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return io_error("fstat", path_, errno);
    return static_cast<uint64_t>(st.st_size);
  }

  Result<std::span<uint8_t>> map_shared(uint64_t bytes) override {
    if (mapped_ != nullptr || bytes == 0) {
      return tl::unexpected(Error{ErrorCode::kInvalidArgument, "map_shared: mapped already, or 0 bytes", path_, 0, {}});
    }
    void* at = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (at == MAP_FAILED) return io_error("mmap", path_, errno);
    mapped_ = at;
    mapped_bytes_ = bytes;
    return std::span<uint8_t>(static_cast<uint8_t*>(at), bytes);
  }

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  int fd_;
  std::string path_;
  void* mapped_ = nullptr;  // map_shared()'s mapping, unmapped before the descriptor closes.
  uint64_t mapped_bytes_ = 0;
};

class PosixLock final : public FileLock {
 public:
  explicit PosixLock(int fd) : fd_(fd) {}
  ~PosixLock() override {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_;
};

class PosixFs final : public Fs {
 public:
  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override {
    int flags = O_CLOEXEC | O_NOFOLLOW;
    switch (mode) {
      case OpenMode::kRead: flags |= O_RDONLY; break;
      case OpenMode::kReadWrite: flags |= O_RDWR; break;
      case OpenMode::kCreateReadWrite: flags |= O_RDWR | O_CREAT; break;
    }
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return io_error("open", path, errno);
    return std::unique_ptr<File>(new PosixFile(fd, path));
  }

  Status create_dir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return io_error("mkdir", path, errno);
    return {};
  }

  Result<std::vector<std::string>> list_dir(const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return io_error("opendir", path, errno);
    std::vector<std::string> names;
    while (dirent* entry = ::readdir(dir)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    ::closedir(dir);
    return names;
  }

  Result<bool> exists(const std::string& path) override {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT) return false;
    return io_error("stat", path, errno);
  }

  Status remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return io_error("unlink", path, errno);
    return {};
  }

  Status rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) return io_error("rename", from, errno);
    return {};
  }

  Status sync_dir(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return io_error("open dir", path, errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return io_error("fsync dir", path, err);
    return {};
  }

  Result<std::unique_ptr<FileLock>> lock(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return io_error("open lock", path, errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int err = errno;
      ::close(fd);
      if (err == EWOULDBLOCK) {
        return tl::unexpected(Error{ErrorCode::kStoreLocked,
                                    "the store is open elsewhere (lock held)", path, 0, {}});
      }
      return io_error("flock", path, err);
    }
    return std::unique_ptr<FileLock>(new PosixLock(fd));
  }

  // Two or more reads go to the kernel together through this thread's io_uring; without one
  // (or if the ring fails), or for a file this Fs did not open, they are read one by one.
  Status read_batch(std::span<ReadRequest> requests) override {
    io::UringReader* reader = requests.size() > 1 ? io::UringReader::for_this_thread() : nullptr;
    if (reader == nullptr) return Fs::read_batch(requests);
    std::vector<io::UringRead> reads(requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
      const auto* file = dynamic_cast<const PosixFile*>(requests[i].file);
      if (file == nullptr) return Fs::read_batch(requests);
      reads[i] = io::UringRead{file->fd(), requests[i].offset, requests[i].data, 0, 0};
    }
    if (!reader->read_all(reads)) return Fs::read_batch(requests);
    for (size_t i = 0; i < requests.size(); ++i) {
      if (reads[i].error != 0) {
        return io_error("read", dynamic_cast<const PosixFile*>(requests[i].file)->path(), reads[i].error);
      }
      requests[i].got = reads[i].got;
    }
    return {};
  }
};

class SystemClock final : public Clock {
 public:
  int64_t now_us() override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace

std::shared_ptr<Fs> posix_fs() {
  static const std::shared_ptr<Fs> fs = std::make_shared<PosixFs>();
  return fs;
}

std::shared_ptr<Clock> system_clock() {
  static const std::shared_ptr<Clock> clock = std::make_shared<SystemClock>();
  return clock;
}

}  // namespace batpak
