#include "util/durable_file.hpp"

#include <algorithm>

namespace batpak::util {

std::string temp_path_of(const std::string& path) { return path + ".tmp"; }

Result<std::unique_ptr<File>> write_file_durably(Fs& fs, const std::string& path, std::span<const uint8_t> bytes) {
  auto file = fs.open(path, Fs::OpenMode::kCreateReadWrite);
  if (!file) return tl::unexpected(file.error());
  if (auto s = (*file)->truncate(0); !s) return tl::unexpected(s.error());
  if (auto s = (*file)->pwrite(0, bytes); !s) return tl::unexpected(s.error());
  if (auto s = (*file)->sync_all(); !s) return tl::unexpected(s.error());
  return std::move(*file);
}

Status replace_file_durably(Fs& fs, const std::string& dir, const std::string& path,
                            std::span<const uint8_t> bytes) {
  const std::string temp = temp_path_of(path);
  if (auto written = write_file_durably(fs, temp, bytes); !written) return tl::unexpected(written.error());
  if (auto s = fs.rename(temp, path); !s) return s;
  return fs.sync_dir(dir);
}

Status overwrite_with_zeros(File& file) {
  auto size = file.size();
  if (!size) return tl::unexpected(size.error());
  const std::vector<uint8_t> zeros(64 * 1024, 0);
  for (uint64_t offset = 0; offset < *size; offset += zeros.size()) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), *size - offset));
    if (auto s = file.pwrite(offset, std::span<const uint8_t>(zeros.data(), n)); !s) return s;
  }
  return file.sync();
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
