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

// A seed file and a master key file hold a secret of the same size, written the same way.
static_assert(kSigningSeedBytes == kMasterKeyBytes);
using Secret = std::array<uint8_t, kSigningSeedBytes>;
constexpr size_t kSecretHexChars = 2 * kSigningSeedBytes;

// `what`: "seed file" or "master key file".
Error invalid(std::string_view what, const std::string& path, const std::string& why) {
  return Error{ErrorCode::kInvalidArgument, std::string(what) + " " + path + ": " + why, path, 0, {}};
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

Result<Secret> parse_secret_text(std::string_view what, const std::string& path, std::string_view text) {
  if (text.size() == kSecretHexChars + 1 && text.back() == '\n') text.remove_suffix(1);
  auto hash = Hash32::parse(text);
  if (!hash) {
    return tl::unexpected(invalid(what, path, "must hold 64 hex characters and at most one newline"));
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

Result<Secret> read_secret_file(std::string_view what, const std::string& path) {
  Fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.fd < 0) return tl::unexpected(invalid(what, path, "cannot open: " + errno_text()));
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) return tl::unexpected(invalid(what, path, "cannot stat: " + errno_text()));
  if (!S_ISREG(st.st_mode)) return tl::unexpected(invalid(what, path, "not a regular file"));
  if ((st.st_mode & 077) != 0) {
    return tl::unexpected(invalid(what, path, "other users may access it; run chmod 600 on it"));
  }
  char buffer[kSecretHexChars + 2];
  const ssize_t n = ::read(file.fd, buffer, sizeof(buffer));
  if (n < 0) return tl::unexpected(invalid(what, path, "cannot read: " + errno_text()));
  return parse_secret_text(what, path, std::string_view(buffer, static_cast<size_t>(n)));
}

Status write_new_secret_file(std::string_view what, const std::string& path, const Secret& secret) {
  Fd file(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (file.fd < 0) {
    const std::string why = errno == EEXIST ? "already exists; it is never replaced" : errno_text();
    return tl::unexpected(invalid(what, path, why));
  }
  Status written = write_all_and_sync(file.fd, to_hex(secret) + "\n", path);
  if (written) written = sync_directory_of(path);
  if (!written) ::unlink(path.c_str());
  return written;
}

// A new secret from `generate`, written to a new file at `path`.
template <typename Generate>
Result<Secret> make_secret_file(std::string_view what, const std::string& path, Generate generate) {
  auto secret = generate();
  if (!secret) return secret;
  if (auto s = write_new_secret_file(what, path, *secret); !s) return tl::unexpected(s.error());
  return secret;
}

}  // namespace

Result<SigningSeed> read_seed_file(const std::string& path) { return read_secret_file("seed file", path); }

Result<SigningSeed> write_new_seed_file(const std::string& path) {
  return make_secret_file("seed file", path, generate_signing_seed);
}

Result<MasterKey> read_master_key_file(const std::string& path) { return read_secret_file("master key file", path); }

Result<MasterKey> write_new_master_key_file(const std::string& path) {
  return make_secret_file("master key file", path, generate_master_key);
}

Result<PublicKey> parse_public_key(const std::string& hex) {
  auto hash = Hash32::parse(hex);
  if (!hash) return make_error(ErrorCode::kInvalidArgument, "--public-key is 64 hex characters");
  return hash->bytes;
}

}  // namespace batpak::cli
