// A check shared by the codec tests of the small files a store replaces whole (manifest,
// fences file, horizon): every prefix of a valid file, and the file with any one bit
// flipped, must be refused as kCorruption (the checksum covers every byte).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <vector>

#include "batpak/status.hpp"

namespace batpak::testing {

// REQUIRES: `decode` takes a std::span<const uint8_t> and returns a Result.
template <class Decode>
void expect_every_truncation_and_bit_flip_is_corruption(const std::vector<uint8_t>& bytes, Decode decode) {
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = decode(std::span<const uint8_t>(bytes.data(), n));
    ASSERT_FALSE(r) << "the first " << n << " bytes were accepted";
    EXPECT_EQ(r.error().code, ErrorCode::kCorruption) << n;
  }
  for (size_t at = 0; at < bytes.size(); ++at) {
    for (uint8_t bit = 1; bit != 0; bit = static_cast<uint8_t>(bit << 1)) {
      std::vector<uint8_t> flipped = bytes;
      flipped[at] ^= bit;
      auto r = decode(std::span<const uint8_t>(flipped));
      ASSERT_FALSE(r) << "byte " << at << " bit " << int{bit};
      EXPECT_EQ(r.error().code, ErrorCode::kCorruption) << "byte " << at << " bit " << int{bit};
    }
  }
}

}  // namespace batpak::testing
