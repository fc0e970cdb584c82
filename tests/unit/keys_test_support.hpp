// What the keys file's tests share: a fresh directory to open a Keyset in, and small helpers.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "crypto/keyset.hpp"
#include "support/temp_dir.hpp"

namespace batpak::crypto {

// The key of `entity` (made if it has none) and its id.
inline Result<Keyset::KeyAndId> key_for(Keyset& keys, std::string_view entity) {
  auto got = keys.keys_for_append({&entity, 1});
  if (!got) return tl::unexpected(got.error());
  return got->front();
}

inline bool contains(std::span<const uint8_t> haystack, std::span<const uint8_t> needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

// A fresh directory for a keys file, on the real file system.
class KeysDirTest : public ::testing::Test {
 protected:
  void SetUp() override { std::filesystem::create_directories(dir); }
  testing::TempDir tmp_;
  const std::string dir = tmp_.sub("keys");
  const std::shared_ptr<Fs> fs = posix_fs();
  KeysOpenReport report;
};

}  // namespace batpak::crypto
