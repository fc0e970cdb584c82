// Whole-file reads and writes for tests that damage a store's files in place.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace batpak::testing {

// The file's bytes; empty when it cannot be read.
inline std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Replaces the file's contents with `data` (no fsync: tests reopen in the same process).
inline void write_file_bytes(const std::string& path, const std::vector<uint8_t>& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

}  // namespace batpak::testing
