// The payload codecs (batpak/codec.hpp, and payload_to_json): round trips, and bytes that
// declare more than they hold.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "batpak/codec.hpp"
#include "batpak/json.hpp"
#include "support/assertions.hpp"

namespace batpak::testing {
namespace {

struct Line {
  std::string sku;
  std::vector<int64_t> quantities;
  MSGPACK_DEFINE_MAP(sku, quantities)
};

TEST(Codec, AStructRoundTrips) {
  const Line line{"sku-1", {3, -4, 1'000'000'000'000}};
  BATPAK_ASSERT_OK_AND_ASSIGN(back, decode_payload<Line>(encode_payload(line)));
  EXPECT_EQ(back.sku, line.sku);
  EXPECT_EQ(back.quantities, line.quantities);
}

TEST(Codec, TruncatedBytesAreADecodeError) {
  const std::vector<uint8_t> whole = encode_payload(Line{"sku-1", {1, 2, 3}});
  for (size_t n = 0; n < whole.size(); ++n) {
    const std::vector<uint8_t> part(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(n));
    BATPAK_EXPECT_ERROR(decode_payload<Line>(part), ErrorCode::kDecode);
  }
}

// Payloads that declare far more than they hold.
std::vector<std::vector<uint8_t>> overdeclared_payloads() {
  std::vector<std::vector<uint8_t>> out = {
      {0xdd, 0xff, 0xff, 0xff, 0xff},        // An array of 2^32 - 1 elements.
      {0xdf, 0xff, 0xff, 0xff, 0xff, 0x01},  // A map of 2^32 - 1 pairs.
      {0xdb, 0xff, 0xff, 0xff, 0xff, 'a'},   // A string of 2^32 - 1 bytes.
      {0xc6, 0xff, 0xff, 0xff, 0xff, 0x01},  // A binary of 2^32 - 1 bytes.
  };
  std::vector<uint8_t> nested;  // 1,000 arrays, each declaring 2^20 elements, each inside the last.
  for (int i = 0; i < 1000; ++i) nested.insert(nested.end(), {0xdd, 0x00, 0x10, 0x00, 0x00});
  out.push_back(std::move(nested));
  return out;
}

// Invariant: decoding allocates in proportion to the bytes given, never to a length they
// declare. Without it the first and the last ask the allocator for gigabytes (the ASan lane
// aborts).
TEST(Codec, DeclaredLengthsBeyondTheBytesAreADecodeErrorNotAnAllocation) {
  for (const std::vector<uint8_t>& bytes : overdeclared_payloads()) {
    BATPAK_EXPECT_ERROR(decode_payload<Line>(bytes), ErrorCode::kDecode);
    BATPAK_EXPECT_ERROR(decode_payload<std::vector<int64_t>>(bytes), ErrorCode::kDecode);
  }
}

// The same invariant for the JSON lane (nlohmann's reader, batpak/json.hpp).
TEST(Codec, TheJsonLaneRefusesTheSameBytes) {
  for (const std::vector<uint8_t>& bytes : overdeclared_payloads()) {
    BATPAK_EXPECT_ERROR(payload_to_json(bytes), ErrorCode::kDecode);
  }
}

}  // namespace
}  // namespace batpak::testing
