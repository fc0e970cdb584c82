// The horizon file (docs/format.md, "The horizon file"): its bytes, every rule its decoder
// enforces (each refusal for its own reason), and its durable write and read.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "index/horizon.hpp"
#include "support/assertions.hpp"
#include "support/codec_damage.hpp"
#include "support/reseal.hpp"
#include "support/temp_dir.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"

namespace batpak::index {
namespace {

using testing::reseal;

constexpr uint64_t kWallMs = 1767225600000;  // 2026-01-01, the example in docs/format.md.
constexpr size_t kCountAt = 32;              // Offsets in the file, past the 8-byte head.
constexpr size_t kZeroAt = 36;
constexpr size_t kHeadsAt = 40;

Hash32 hash_of(uint8_t first) {
  Hash32 h;
  for (size_t i = 0; i < h.bytes.size(); ++i) h.bytes[i] = static_cast<uint8_t>(first + i);
  return h;
}

// The example in docs/format.md: segments 1 and 2 (events 1 to 24) dropped, entity "a" at
// its third event.
Horizon example() { return Horizon{3, 25, kWallMs, {{"a", EntityHead{3, hash_of(0xA0), kWallMs}}}}; }

// Two entities, so that the rules between names can be broken.
Horizon two_entities() {
  return Horizon{4, 40, kWallMs + 9,
                 {{"a", EntityHead{3, hash_of(0x10), kWallMs}}, {"b", EntityHead{1, hash_of(0x40), kWallMs + 9}}}};
}

TEST(Horizon, RoundTripsAndHasTheDocumentedBytes) {
  const std::vector<uint8_t> bytes = encode_horizon(example());
  ASSERT_EQ(bytes.size(), 95u) << "40 + 47 + 8, as docs/format.md says";
  const std::vector<uint8_t> expected = {
      0x42, 0x50, 0x48, 0x5a, 1, 0, 0, 0,                  // "BPHZ", version 1, reserved
      3, 0, 0, 0, 0, 0, 0, 0,                              // first_segment_id
      0x19, 0, 0, 0, 0, 0, 0, 0,                           // first_sequence 25
      0x00, 0xa8, 0xda, 0x76, 0x9b, 0x01, 0, 0,            // wall_ms_max
      1, 0, 0, 0, 0, 0, 0, 0,                              // one entity, zero
      1, 0, 0x61, 3, 0, 0, 0,                              // "a", clock 3
      0x00, 0xa8, 0xda, 0x76, 0x9b, 0x01, 0, 0};           // wall_ms
  EXPECT_EQ(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 55), expected) << "the example in docs/format.md";
  const Hash32 hash = hash_of(0xA0);
  EXPECT_TRUE(std::equal(hash.bytes.begin(), hash.bytes.end(), bytes.begin() + 55)) << "then its event hash";
  EXPECT_EQ(util::load_le<uint64_t>(bytes.data() + 87), util::checksum64({bytes.data(), 87}));

  const std::string longest(kCoordinateComponentBytesMax, 'z');
  const Horizon extremes{UINT64_MAX, UINT64_MAX, UINT64_MAX,
                         {{longest, EntityHead{UINT32_MAX, hash_of(7), UINT64_MAX}},
                          {"\xc3\xa9t\xc3\xa9:1", EntityHead{1, Hash32{}, 0}}}};  // Names ascend bytewise.
  for (const Horizon& h : {example(), two_entities(), Horizon{2, 1, 0, {}}, extremes}) {
    auto decoded = decode_horizon(encode_horizon(h));
    ASSERT_TRUE(decoded) << decoded.error().to_string();
    EXPECT_EQ(*decoded, h);
    EXPECT_TRUE(decoded->dropped());
  }
}

TEST(Horizon, EveryTruncationAndEveryFlippedBitIsCorruption) {
  testing::expect_every_truncation_and_bit_flip_is_corruption(
      encode_horizon(two_entities()), [](std::span<const uint8_t> bytes) { return decode_horizon(bytes); });
}

// One refusal: the file, the error code and a fragment of the message that names its reason,
// so that each case is refused by the rule it breaks and not by an earlier one.
struct Refusal {
  const char* what;
  std::vector<uint8_t> bytes;
  ErrorCode code;
  const char* reason;
};

void expect_refusals(const std::vector<Refusal>& refusals) {
  for (const Refusal& refusal : refusals) {
    SCOPED_TRACE(refusal.what);
    auto r = decode_horizon(refusal.bytes);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, refusal.code) << r.error().to_string();
    EXPECT_NE(r.error().message.find(refusal.reason), std::string::npos) << r.error().message;
  }
}

// `h` encoded after `change`: a file with a valid checksum that breaks a rule.
std::vector<uint8_t> encoded(Horizon h, const std::function<void(Horizon&)>& change) {
  change(h);
  return encode_horizon(h);
}

// The two-entity file after `edit` of its bytes, resealed.
std::vector<uint8_t> edited(const std::function<void(std::vector<uint8_t>&)>& edit) {
  std::vector<uint8_t> bytes = encode_horizon(two_entities());
  edit(bytes);
  reseal(bytes);
  return bytes;
}

TEST(Horizon, ADamagedEnvelopeIsCorruptionAndANewerVersionIsUnsupported) {
  const std::vector<uint8_t> good = encode_horizon(two_entities());
  std::vector<uint8_t> bad_magic = good;
  bad_magic[3] = 'Y';  // The magic is checked before the checksum: no reseal.
  std::vector<uint8_t> bad_checksum = good;
  bad_checksum.back() ^= 1;
  expect_refusals({
      {"truncated", std::vector<uint8_t>(good.begin(), good.begin() + 15), ErrorCode::kCorruption, "is truncated"},
      {"bad magic", bad_magic, ErrorCode::kCorruption, "bad magic"},
      {"bad checksum", bad_checksum, ErrorCode::kCorruption, "checksum mismatch"},
      {"newer version", edited([](auto& b) { b[4] = 2; }), ErrorCode::kUnsupported, "version 2 is newer"},
      {"version 0", edited([](auto& b) { b[4] = 0; }), ErrorCode::kCorruption, "bad version or reserved"},
      {"reserved field", edited([](auto& b) { b[7] = 1; }), ErrorCode::kCorruption, "bad version or reserved"},
  });
}

TEST(Horizon, ABodyThatBreaksARuleIsCorruptionEvenWithAValidChecksum) {
  const Horizon base = two_entities();
  expect_refusals({
      {"body shorter than its header", edited([](auto& b) { b.resize(8 + 20 + 8); }), ErrorCode::kCorruption,
       "bad header"},
      {"body's zero field", edited([](auto& b) { b[kZeroAt + 3] = 1; }), ErrorCode::kCorruption, "bad header"},
      {"first segment 1", encoded(base, [](Horizon& h) { h.first_segment_id = 1; }), ErrorCode::kCorruption,
       "names segment 1 "},
      {"first segment 0", encoded(base, [](Horizon& h) { h.first_segment_id = 0; }), ErrorCode::kCorruption,
       "names segment 0 "},
      {"first sequence 0", encoded(base, [](Horizon& h) { h.first_sequence = 0; }), ErrorCode::kCorruption,
       "global sequence 0"},
      {"count one above the heads", edited([](auto& b) { b[kCountAt] = 3; }), ErrorCode::kCorruption, "bad length"},
      {"count 2^32 - 1", edited([](auto& b) { util::store_le<uint32_t>(b.data() + kCountAt, UINT32_MAX); }),
       ErrorCode::kCorruption, "bad length"},
      {"name longer than the body", edited([](auto& b) { util::store_le<uint16_t>(b.data() + kHeadsAt, 300); }),
       ErrorCode::kCorruption, "bad length"},
      {"empty name", encoded(base,  // The longer second name keeps the count within the body.
                             [](Horizon& h) {
                               h.heads[0].first.clear();
                               h.heads[1].first = "bbb";
                             }),
       ErrorCode::kCorruption, "invalid entity name"},
      {"name with a control byte", encoded(base, [](Horizon& h) { h.heads[1].first = "b\x01"; }),
       ErrorCode::kCorruption, "invalid entity name"},
      {"name with '/'", encoded(base, [](Horizon& h) { h.heads[1].first = "b/c"; }), ErrorCode::kCorruption,
       "invalid entity name"},
      {"names out of order", encoded(base, [](Horizon& h) { std::swap(h.heads[0], h.heads[1]); }),
       ErrorCode::kCorruption, "out of order or repeated"},
      {"name repeated", encoded(base, [](Horizon& h) { h.heads[1].first = "a"; }), ErrorCode::kCorruption,
       "out of order or repeated"},
      {"clock 0", encoded(base, [](Horizon& h) { h.heads[1].second.clock = 0; }), ErrorCode::kCorruption,
       "clock 0"},
      {"head later than wall_ms_max", encoded(base, [](Horizon& h) { --h.wall_ms_max; }), ErrorCode::kCorruption,
       "past its largest wall_ms"},
      {"one trailing byte", edited([](auto& b) { b.insert(b.end() - 8, uint8_t{0}); }), ErrorCode::kCorruption,
       "bad length"},
      {"a trailing head's worth", edited([](auto& b) { b.insert(b.end() - 8, 47, 0); }), ErrorCode::kCorruption,
       "bad length"},
  });
}

TEST(Horizon, ReadsNothingDroppedWhenAbsentWhatWasWrittenAndNamesADamagedFile) {
  testing::TempDir tmp;
  auto fs = posix_fs();
  auto absent = read_horizon(*fs, tmp.path());
  ASSERT_TRUE(absent) << absent.error().to_string();
  EXPECT_EQ(*absent, Horizon{});
  EXPECT_FALSE(absent->dropped());

  BATPAK_ASSERT_OK(write_horizon(*fs, tmp.path(), example()));
  BATPAK_ASSERT_OK(write_horizon(*fs, tmp.path(), two_entities()));  // Replaces the first.
  auto read = read_horizon(*fs, tmp.path());
  ASSERT_TRUE(read) << read.error().to_string();
  EXPECT_EQ(*read, two_entities());
  EXPECT_FALSE(std::filesystem::exists(tmp.sub("horizon.tmp")));

  {
    auto file = fs->open(tmp.sub(kHorizonFileName), Fs::OpenMode::kReadWrite);
    ASSERT_TRUE(file);
    BATPAK_ASSERT_OK((*file)->pwrite(kHeadsAt + 2, std::vector<uint8_t>{'x'}));
  }
  auto damaged = read_horizon(*fs, tmp.path());
  ASSERT_FALSE(damaged);
  EXPECT_EQ(damaged.error().code, ErrorCode::kCorruption);
  EXPECT_EQ(damaged.error().file, tmp.sub(kHorizonFileName));
}

}  // namespace
}  // namespace batpak::index
