// The per-thread random pool behind event ids.
#include <gtest/gtest.h>

#include <array>
#include <set>

#include "store/signer.hpp"
#include "util/random.hpp"

namespace batpak {
namespace {

// Ids drawn across several pool refills never repeat: each refill's stream has its own key.
TEST(RandomBytes, SixteenBytePiecesAcrossSeveralRefillsAreAllDistinct) {
  ASSERT_TRUE(sodium_ready());
  constexpr size_t kPieces = 4 * 4096 / 16;  // Four pools' worth.
  std::set<std::array<uint8_t, 16>> seen;
  for (size_t i = 0; i < kPieces; ++i) {
    std::array<uint8_t, 16> piece{};
    util::random_bytes(piece);
    EXPECT_TRUE(seen.insert(piece).second) << "piece " << i << " repeats an earlier one";
  }
}

// Draws of uneven sizes, crossing refills, fill exactly the bytes requested.
TEST(RandomBytes, DrawsOfUnevenSizesFillExactlyTheBytesRequested) {
  ASSERT_TRUE(sodium_ready());
  size_t requested = 0, nonzero = 0;
  for (size_t i = 0; i < 400; ++i) {
    std::array<uint8_t, 64> block{};
    const size_t size = 7 + i % 58;
    util::random_bytes(std::span<uint8_t>(block.data(), size));
    requested += size;
    for (size_t b = 0; b < size; ++b) nonzero += block[b] != 0;
    for (size_t b = size; b < block.size(); ++b) ASSERT_EQ(block[b], 0) << "draw " << i << " wrote past its end";
  }
  EXPECT_GT(nonzero, requested * 95 / 100);  // A random byte is zero 1 time in 256.
}

}  // namespace
}  // namespace batpak
