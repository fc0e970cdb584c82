// Small files replaced atomically and durably, and read back whole. Internal.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "batpak/env.hpp"
#include "batpak/status.hpp"

namespace batpak::util {

// The name a new version of `path` is written under before it replaces `path`.
std::string temp_path_of(const std::string& path);

// Creates or truncates `path`, writes `bytes`, fsyncs it, and returns it open read-write.
Result<std::unique_ptr<File>> write_file_durably(Fs& fs, const std::string& path, std::span<const uint8_t> bytes);

// Replaces `path` (inside directory `dir`) with `bytes`: writes temp_path_of(path), fsyncs
// it, renames it over `path` and fsyncs `dir`. A crash leaves the old file or the new one,
// never a mix. On error the old file is unchanged or the rename's outcome is unknown.
Status replace_file_durably(Fs& fs, const std::string& dir, const std::string& path,
                            std::span<const uint8_t> bytes);

// Writes zeros over every byte of `file`, then fsyncs it: what a file held is gone from its
// blocks, as far as the file system overwrites in place (docs/encryption.md).
Status overwrite_with_zeros(File& file);

// The whole file at `path`, or nullopt when it does not exist. A file larger than
// `bytes_max` is kCorruption (with the path in Error::file).
Result<std::optional<std::vector<uint8_t>>> read_small_file(Fs& fs, const std::string& path, uint64_t bytes_max);

// read_small_file, then `decode` (bytes -> Result<T>) of what it read: nullopt when the file
// does not exist. An error of either step names `path` in Error::file.
template <class T, class Decode>
Result<std::optional<T>> read_decoded_small_file(Fs& fs, const std::string& path, uint64_t bytes_max,
                                                 Decode decode) {
  auto bytes = read_small_file(fs, path, bytes_max);
  if (!bytes) return tl::unexpected(bytes.error());
  if (!*bytes) return std::optional<T>();
  Result<T> decoded = decode(std::span<const uint8_t>(**bytes));
  if (!decoded) {
    Error e = decoded.error();
    e.file = path;
    return tl::unexpected(std::move(e));
  }
  return std::optional<T>(std::move(*decoded));
}

}  // namespace batpak::util
