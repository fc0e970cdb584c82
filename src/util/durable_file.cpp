#include "util/durable_file.hpp"

namespace batpak::util {

Status replace_file_durably(Fs& fs, const std::string& dir, const std::string& path,
                            std::span<const uint8_t> bytes) {
  const std::string temp = path + ".tmp";
  {
    auto file = fs.open(temp, Fs::OpenMode::kCreateReadWrite);
    if (!file) return tl::unexpected(file.error());
    if (auto s = (*file)->truncate(0); !s) return s;
    if (auto s = (*file)->pwrite(0, bytes); !s) return s;
    if (auto s = (*file)->sync_all(); !s) return s;
  }
  if (auto s = fs.rename(temp, path); !s) return s;
  return fs.sync_dir(dir);
}

Result<std::optional<std::vector<uint8_t>>> read_small_file(Fs& fs, const std::string& path, uint64_t bytes_max) {
  auto exists = fs.exists(path);
  if (!exists) return tl::unexpected(exists.error());
  if (!*exists) return std::optional<std::vector<uint8_t>>();
  auto file = fs.open(path, Fs::OpenMode::kRead);
  if (!file) return tl::unexpected(file.error());
  auto size = (*file)->size();
  if (!size) return tl::unexpected(size.error());
  if (*size > bytes_max) {
    return tl::unexpected(Error{ErrorCode::kCorruption, "the file is too large (" + std::to_string(*size) + " bytes)", path, 0, {}});
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(*size));
  auto got = (*file)->pread(0, bytes);
  if (!got) return tl::unexpected(got.error());
  bytes.resize(*got);
  return std::optional<std::vector<uint8_t>>(std::move(bytes));
}

}  // namespace batpak::util
