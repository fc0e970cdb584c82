#include "keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "cli.hpp"

namespace batpak::cli {
namespace {

constexpr size_t kSeedHexChars = 2 * kSigningSeedBytes;

Error invalid(const std::string& path, const std::string& why) {
  return Error{ErrorCode::kInvalidArgument, "seed file " + path + ": " + why, path, 0, {}};
}

std::string errno_text() { return std::strerror(errno); }

// A descriptor that closes itself.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Result<SigningSeed> parse_seed_text(const std::string& path, std::string_view text) {
  if (text.size() == kSeedHexChars + 1 && text.back() == '\n') text.remove_suffix(1);
  auto hash = Hash32::parse(text);
  if (!hash) {
    return tl::unexpected(invalid(path, "must hold 64 hex characters and at most one newline"));
  }
  return hash->bytes;
}

// The directory entry of a new file is durable once its directory is synced.
Status sync_directory_of(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return posix_fs()->sync_dir(parent.empty() ? "." : parent.string());
}

Status write_all_and_sync(int fd, const std::string& text, const std::string& path) {
  if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) || ::fsync(fd) != 0) {
    return make_error(ErrorCode::kIo, "cannot write " + path + ": " + errno_text());
  }
  return {};
}

}  // namespace

Result<SigningSeed> read_seed_file(const std::string& path) {
  Fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.fd < 0) return tl::unexpected(invalid(path, "cannot open: " + errno_text()));
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) return tl::unexpected(invalid(path, "cannot stat: " + errno_text()));
  if (!S_ISREG(st.st_mode)) return tl::unexpected(invalid(path, "not a regular file"));
  if ((st.st_mode & 077) != 0) {
    return tl::unexpected(invalid(path, "other users may access it; run chmod 600 on it"));
  }
  char buffer[kSeedHexChars + 2];
  const ssize_t n = ::read(file.fd, buffer, sizeof(buffer));
  if (n < 0) return tl::unexpected(invalid(path, "cannot read: " + errno_text()));
  return parse_seed_text(path, std::string_view(buffer, static_cast<size_t>(n)));
}

Result<SigningSeed> write_new_seed_file(const std::string& path) {
  auto seed = generate_signing_seed();
  if (!seed) return seed;
  Fd file(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (file.fd < 0) {
    const std::string why = errno == EEXIST ? "already exists; keygen never replaces a seed" : errno_text();
    return tl::unexpected(invalid(path, why));
  }
  Status written = write_all_and_sync(file.fd, to_hex(*seed) + "\n", path);
  if (written) written = sync_directory_of(path);
  if (!written) {
    ::unlink(path.c_str());
    return tl::unexpected(written.error());
  }
  return seed;
}

Result<PublicKey> parse_public_key(const std::string& hex) {
  auto hash = Hash32::parse(hex);
  if (!hash) return make_error(ErrorCode::kInvalidArgument, "--public-key is 64 hex characters");
  return hash->bytes;
}

}  // namespace batpak::cli
