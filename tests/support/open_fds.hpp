// Counts this process's open file descriptors on files of one directory, read from
// /proc/self/fd (Linux): what the operating system holds, not what the code believes.
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

namespace batpak::testing {

// Descriptors open on files directly in `dir` whose names end with `suffix`.
inline size_t open_fds_in(const std::string& dir, const std::string& suffix) {
  const std::filesystem::path wanted_dir = std::filesystem::canonical(dir);
  size_t count = 0;
  std::error_code ec;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    const std::filesystem::path target = std::filesystem::read_symlink(fd.path(), ec);
    if (ec) continue;  // Closed meanwhile, e.g. the iterator's own descriptor.
    const std::string name = target.filename().string();
    if (target.parent_path() == wanted_dir && name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      ++count;
    }
  }
  return count;
}

}  // namespace batpak::testing
