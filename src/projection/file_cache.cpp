// The file-per-key projection cache: one file per row under two-hex-character shards.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "batpak/projection_cache.hpp"
#include "projection/cache_envelope.hpp"
#include "util/hash.hpp"
#include "util/hex.hpp"
#include "util/random.hpp"

namespace batpak {
namespace {

constexpr char kRowSuffix[] = ".row";

tl::unexpected<Error> cache_io(const std::string& what, const std::string& path, int err) {
  return tl::unexpected(Error{ErrorCode::kIo, what + ": " + std::strerror(err), path, 0, {}});
}

// kIo when `path` is a symbolic link; OK when it is anything else or missing.
Status refuse_symlink(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT ? Status() : cache_io("lstat", path, errno);
  if (S_ISLNK(st.st_mode)) return cache_io("refusing a symbolic link", path, ELOOP);
  return {};
}

Result<std::optional<std::vector<uint8_t>>> read_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::vector<uint8_t>>();
    return cache_io("open cache row", path, errno);
  }
  std::vector<uint8_t> bytes;
  uint8_t buffer[65536];
  ssize_t n = 0;
  while ((n = ::read(fd, buffer, sizeof(buffer))) > 0) bytes.insert(bytes.end(), buffer, buffer + n);
  const int err = errno;
  ::close(fd);
  if (n < 0) return cache_io("read cache row", path, err);
  return std::optional<std::vector<uint8_t>>(std::move(bytes));
}

// Thread safety: every method may be called concurrently; a row file is replaced by rename,
// so a reader sees the old row or the new one, never a torn one.
class FileCache final : public ProjectionCache {
 public:
  explicit FileCache(std::string root) : root_(std::move(root)) {}

  CacheCapabilities capabilities() const override { return {false, false}; }

  Result<std::optional<std::vector<uint8_t>>> get(std::span<const uint8_t> key) override {
    const std::string shard = shard_of(key);
    const std::string path = row_path(key);
    if (auto s = refuse_symlink(shard); !s) return tl::unexpected(s.error());
    struct stat st {};
    if (::stat(shard.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
      return cache_io("cache shard is not a directory", shard, ENOTDIR);
    }
    auto file = read_file(path);
    if (!file || !*file) return file;
    auto row = projection::envelope_row(**file, key);
    if (!row) ::unlink(path.c_str());  // Damaged or foreign file: self-heal, report a miss.
    return row;
  }

  Status put(std::span<const uint8_t> key, std::span<const uint8_t> row) override {
    const std::string shard = shard_of(key);
    const std::string path = row_path(key);
    if (auto s = refuse_symlink(shard); !s) return s;
    if (::mkdir(shard.c_str(), 0755) != 0 && errno != EEXIST) return cache_io("mkdir", shard, errno);
    if (auto s = refuse_symlink(path); !s) return s;
    uint8_t nonce[8];
    util::random_bytes(nonce);
    const std::string temp = shard + "/.tmp-" + util::to_hex(nonce);
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return cache_io("create cache row", temp, errno);
    const std::vector<uint8_t> bytes = projection::envelope(key, row);
    const bool written = ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
    const int err = errno;
    ::close(fd);
    // Deliberately no fsync: the cache is derivable from the journal; a lost row is a miss.
    if (!written || ::rename(temp.c_str(), path.c_str()) != 0) {
      const int cause = written ? errno : err;
      ::unlink(temp.c_str());
      return cache_io("write cache row", path, cause);
    }
    return {};
  }

  Result<uint64_t> delete_prefix(std::span<const uint8_t> prefix) override {
    DIR* root = ::opendir(root_.c_str());
    if (root == nullptr) return errno == ENOENT ? Result<uint64_t>(0) : cache_io("opendir", root_, errno);
    uint64_t removed = 0;
    while (dirent* shard = ::readdir(root)) {
      if (std::strlen(shard->d_name) != 2) continue;
      const std::string shard_path = root_ + "/" + shard->d_name;
      if (!refuse_symlink(shard_path)) continue;
      removed += delete_in_shard(shard_path, prefix);
    }
    ::closedir(root);
    return removed;
  }

  Status sync() override { return {}; }  // Rows are never made durable; see put().

 private:
  std::string row_name(std::span<const uint8_t> key) const { return util::blake3(key).to_hex(); }
  std::string shard_of(std::span<const uint8_t> key) const { return root_ + "/" + row_name(key).substr(0, 2); }
  std::string row_path(std::span<const uint8_t> key) const {
    return shard_of(key) + "/" + row_name(key) + kRowSuffix;
  }

  static uint64_t delete_in_shard(const std::string& shard_path, std::span<const uint8_t> prefix) {
    DIR* dir = ::opendir(shard_path.c_str());
    if (dir == nullptr) return 0;
    uint64_t removed = 0;
    while (dirent* entry = ::readdir(dir)) {
      const std::string name = entry->d_name;
      if (!name.ends_with(kRowSuffix)) continue;
      const std::string path = shard_path + "/" + name;
      auto file = read_file(path);
      if (!file || !*file) continue;
      const bool damaged = !projection::envelope_key(**file);
      const bool match = projection::envelope_has_prefix(**file, prefix);
      if ((damaged || match) && ::unlink(path.c_str()) == 0 && match) ++removed;
    }
    ::closedir(dir);
    return removed;
  }

  const std::string root_;
};

}  // namespace

Result<std::shared_ptr<ProjectionCache>> make_file_cache(const std::string& root) {
  if (auto s = refuse_symlink(root); !s) return tl::unexpected(s.error());
  if (::mkdir(root.c_str(), 0755) != 0 && errno != EEXIST) return cache_io("mkdir", root, errno);
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return cache_io("cache root is not a directory", root, ENOTDIR);
  }
  return std::shared_ptr<ProjectionCache>(std::make_shared<FileCache>(root));
}

}  // namespace batpak
