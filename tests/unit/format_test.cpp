// The on-disk format: golden bytes of a frame and a segment header, the event hash, and the
// structural checks of decode_record and frame_checksum_ok.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "format/format.hpp"
#include "format/record.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"
#include "util/hex.hpp"

namespace batpak {
namespace {

using format::FrameContext;

template <size_t N>
std::array<uint8_t, N> counting_bytes(uint8_t start) {
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N; ++i) out[i] = static_cast<uint8_t>(start + i);
  return out;
}

// The fixed header of the golden frame. Every field has a distinct, recognisable value.
EventHeader golden_header() {
  EventHeader h;
  h.event_id.bytes = counting_bytes<16>(0x10);        // 10 11 .. 1f
  h.correlation_id.bytes = counting_bytes<16>(0x20);  // 20 21 .. 2f
  h.causation_id.bytes = counting_bytes<16>(0x30);    // 30 31 .. 3f
  h.global_sequence = 0x0102030405060708ull;
  h.clock = 0x0A0B0C0D;
  h.wall_ms = 0x0000018F2E3D4C5Bull;
  h.timestamp_us = 0x0006123456789ABCll;
  h.kind = EventKind(0x1001);
  h.flags = 0x00F0;
  h.payload_version = 0x0003;
  h.content_hash.bytes = counting_bytes<32>(0x40);  // 40 .. 5f
  h.prev_hash.bytes = counting_bytes<32>(0x60);     // 60 .. 7f
  h.event_hash.bytes = counting_bytes<32>(0x80);    // 80 .. 9f
  return h;
}

const FrameContext kGoldenContext{/*batch_count=*/2, /*batch_index=*/1, /*durable_floor=*/0x1000};
const std::vector<uint8_t> kGoldenPayload{1, 2, 3};

std::vector<uint8_t> golden_frame() {
  std::vector<uint8_t> out;
  format::encode_frame(golden_header(), kGoldenContext, "order:1", "s", kGoldenPayload, out);
  return out;
}

// Frozen by hand-checking against format.hpp (offsets noted per line). Frame header (16),
// record fixed part (208), entity "order:1" (7), scope "s" (1), payload 01 02 03 (3),
// 5 bytes of zero padding to 240.
constexpr std::string_view kGoldenFrameHex =
    // frame header: checksum u64 | magic "BTPK" | record_bytes = 219 (0xdb)
    "26764e71f946947d"
    "4254504b"
    "db000000"
    // rec+0: version 1 | kind 0x1001 | flags 0x00f0 | payload_version 3
    "0100" "0110" "f000" "0300"
    // rec+8: batch_count 2 | batch_index 1
    "02000000" "01000000"
    // rec+16: global_sequence 0x0102030405060708
    "0807060504030201"
    // rec+24: durable_floor 0x1000
    "0010000000000000"
    // rec+32: wall_ms 0x18f2e3d4c5b
    "5b4c3d2e8f010000"
    // rec+40: timestamp_us 0x6123456789abc
    "bc9a785634120600"
    // rec+48: clock 0x0a0b0c0d | entity_bytes 7 | scope_bytes 1
    "0d0c0b0a" "0700" "0100"
    // rec+56: payload_bytes 3 | reserved 0
    "03000000" "00000000"
    // rec+64: event_id, correlation_id, causation_id
    "101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f"
    "303132333435363738393a3b3c3d3e3f"
    // rec+112: content_hash, prev_hash, event_hash
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    // rec+208: "order:1" "s" 01 02 03, then padding
    "6f726465723a31" "73" "010203"
    "0000000000";

TEST(FormatGolden, FrameBytesAreExactlyTheDocumentedLayout) {
  const std::vector<uint8_t> frame = golden_frame();
  ASSERT_EQ(frame.size(), 240u);
  ASSERT_EQ(frame.size(), format::frame_bytes(7, 1, 3));
  EXPECT_EQ(util::to_hex(frame), std::string(kGoldenFrameHex));
}

// Known-answer tests pin the primitives to the published algorithms, so the golden values
// above are XXH3-64 (seed 0) and BLAKE3, not some other function.
TEST(FormatPrimitives, ChecksumIsXxh3With64BitOutputAndSeedZero) {
  EXPECT_EQ(util::checksum64({}), 0x2D06800538D394C2ull);  // XXH3_64bits("")
}

// The index checkpoint's segment checksums are streamed in pieces (store_checkpoint.cpp):
// a seeded stream must equal the one-shot seeded XXH3 for short, mid-size and long inputs,
// whatever the pieces.
TEST(FormatPrimitives, SeededChecksumStreamEqualsTheOneShotSeededChecksum) {
  std::vector<uint8_t> data(300000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 131 + (i >> 9));
  util::Checksum64Stream stream;
  for (size_t size : {size_t{0}, size_t{17}, size_t{240}, size_t{241}, size_t{4096}, data.size()}) {
    const std::span<const uint8_t> whole(data.data(), size);
    for (uint64_t seed : {uint64_t{0}, uint64_t{0x9E3779B97F4A7C15}}) {
      stream.reset(seed);
      for (size_t at = 0; at < size; at += 1000) stream.update(whole.subspan(at, std::min<size_t>(1000, size - at)));
      EXPECT_EQ(stream.digest(), util::checksum64(whole, seed)) << size << " bytes, seed " << seed;
    }
  }
}

// docs/format.md: a segment checksum chains XXH3-64 over fixed chunks, each seeded with the
// previous chunk's value. Fed in pieces that straddle chunk ends, it must equal that chain.
TEST(FormatPrimitives, ChunkedChecksumEqualsTheChainOfSeededChunkChecksumsWhateverThePieces) {
  constexpr uint64_t kChunk = 1000;
  std::vector<uint8_t> data(4500);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<uint8_t>(i * 7 + (i >> 5));
  for (size_t size : {size_t{0}, size_t{999}, size_t{1000}, size_t{1001}, size_t{3000}, data.size()}) {
    uint64_t expected = 0;
    for (size_t at = 0; at < size; at += kChunk) {
      expected = util::checksum64({data.data() + at, std::min<size_t>(kChunk, size - at)}, expected);
    }
    for (size_t piece : {size_t{1}, size_t{333}, size_t{1000}, size_t{2500}}) {
      util::ChunkedChecksum64 chunked(kChunk);
      for (size_t at = 0; at < size; at += piece) chunked.update({data.data() + at, std::min(piece, size - at)});
      EXPECT_EQ(chunked.digest(), expected) << size << " bytes in pieces of " << piece;
    }
  }
}

TEST(FormatPrimitives, Blake3MatchesTheReferenceEmptyInputDigest) {
  EXPECT_EQ(util::blake3({}).to_hex(),
            "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
}

// The many-input path gives BLAKE3 itself: every length from 0 to 2,100 bytes (one-block,
// multi-block, exactly one chunk, and the one-at-a-time fallback above a chunk), in one call
// where lengths are interleaved so that each SIMD group mixes inputs from far apart.
TEST(FormatPrimitives, Blake3EachEqualsBlake3OfEveryInputWhateverItsLength) {
  std::vector<uint8_t> bytes(2100);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 131 + 7);
  std::vector<std::span<const uint8_t>> inputs;
  for (size_t len = 0; len <= bytes.size(); ++len) {
    const size_t start = (len * 17) % (bytes.size() - len + 1);
    inputs.emplace_back(bytes.data() + start, len);
  }
  std::vector<size_t> order(inputs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = (i * 389) % order.size();  // 389 is coprime to 2101.
  std::vector<std::span<const uint8_t>> shuffled;
  for (size_t i : order) shuffled.push_back(inputs[i]);
  std::vector<Hash32> hashes(shuffled.size());
  util::blake3_each(shuffled, hashes);
  for (size_t k = 0; k < shuffled.size(); ++k) {
    ASSERT_EQ(hashes[k], util::blake3(shuffled[k])) << "input of " << shuffled[k].size() << " bytes";
  }
  util::blake3_each({}, {});  // No inputs: nothing to do, and no crash.
}

TEST(FormatGolden, FrameChecksumIsXxh3OfMagicThroughRecordEnd) {
  const std::vector<uint8_t> frame = golden_frame();
  const uint64_t expected = util::checksum64({frame.data() + 8, 8 + 219});
  EXPECT_EQ(util::load_le<uint64_t>(frame.data()), expected);
  EXPECT_TRUE(format::frame_checksum_ok({frame.data(), 16 + 219}));
}

constexpr std::string_view kGoldenSegmentHeaderHex =
    // magic "BATPAKSG" | version 1 | header_bytes 64
    "42415450414b5347" "01000000" "40000000"
    // segment id 42 | created_ms 0x18f2e3d4c5b
    "2a00000000000000" "5b4c3d2e8f010000"
    // 24 reserved zero bytes
    "000000000000000000000000000000000000000000000000"
    // XXH3-64 of bytes [0, 56)
    "8160bfb8e0feb2b2";

TEST(FormatGolden, SegmentHeaderBytesAreExactlyTheDocumentedLayout) {
  const std::vector<uint8_t> header = format::encode_segment_header(42, 0x18F2E3D4C5Bull);
  ASSERT_EQ(header.size(), format::kSegmentHeaderBytes);
  EXPECT_EQ(util::to_hex(header), std::string(kGoldenSegmentHeaderHex));
  EXPECT_TRUE(format::check_segment_header(header, 42).has_value());
}

TEST(FormatGolden, EventHashOfTheFixedHeaderIsFrozen) {
  const Hash32 hash = format::compute_event_hash(golden_header(), "order:1", "s");
  EXPECT_EQ(hash.to_hex(), "c8fb09e656f94866eceda70a6083a449d1e17a32b65801288f521cba41b7ce6a");
}

// The hashed bytes as docs/format.md lists them, laid end to end.
std::vector<uint8_t> event_hash_input(const EventHeader& h, std::string_view entity, std::string_view scope) {
  std::string out;
  auto put = [&out](const void* p, size_t n) { out.append(static_cast<const char*>(p), n); };
  auto put_le = [&put](uint64_t v, size_t n) {
    uint8_t b[8];
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
    put(b, n);
  };
  put(h.event_id.bytes.data(), 16);
  put(h.correlation_id.bytes.data(), 16);
  put(h.causation_id.bytes.data(), 16);
  put_le(h.global_sequence, 8);
  put_le(h.clock, 4);
  put_le(h.wall_ms, 8);
  put_le(h.kind.raw(), 2);
  put_le(h.payload_version, 2);
  put_le(entity.size(), 4);
  put(entity.data(), entity.size());
  put_le(scope.size(), 4);
  put(scope.data(), scope.size());
  put(h.content_hash.bytes.data(), 32);
  put(h.prev_hash.bytes.data(), 32);
  return std::vector<uint8_t>(out.begin(), out.end());
}

TEST(EventHash, IsTheDocumentedInputHashedInOnePieceForShortAndLongCoordinates) {
  // Short coordinates are hashed from one stack buffer, long ones piece by piece: both must
  // be the BLAKE3 (derive-key mode) of the documented input.
  for (size_t entity_bytes : {1u, 8u, 100u, 150u, 191u, 192u, 193u, 250u, 1000u}) {
    const std::string entity(entity_bytes, 'e');
    for (const std::string& scope : {std::string(), std::string("s"), std::string(64, 's')}) {
      EXPECT_EQ(format::compute_event_hash(golden_header(), entity, scope),
                util::blake3_derive(format::kEventHashContext, event_hash_input(golden_header(), entity, scope)))
          << entity_bytes << " entity bytes, " << scope.size() << " scope bytes";
    }
  }
}

TEST(EventHash, CoversEveryHashedFieldButNotTimestampFlagsOrItsOwnField) {
  const EventHeader base = golden_header();
  const Hash32 h0 = format::compute_event_hash(base, "order:1", "s");
  auto differs = [&](const char* what, auto mutate, std::string_view entity = "order:1",
                     std::string_view scope = "s") {
    EventHeader h = base;
    mutate(h);
    EXPECT_NE(format::compute_event_hash(h, entity, scope), h0) << what;
  };
  differs("event_id", [](EventHeader& h) { h.event_id.bytes[15] ^= 1; });
  differs("correlation", [](EventHeader& h) { h.correlation_id.bytes[0] ^= 1; });
  differs("causation", [](EventHeader& h) { h.causation_id.bytes[7] ^= 1; });
  differs("global_sequence", [](EventHeader& h) { h.global_sequence += 1; });
  differs("clock", [](EventHeader& h) { h.clock += 1; });
  differs("wall_ms", [](EventHeader& h) { h.wall_ms += 1; });
  differs("kind", [](EventHeader& h) { h.kind = EventKind(0x1002); });
  differs("payload_version", [](EventHeader& h) { h.payload_version = 4; });
  differs("content_hash", [](EventHeader& h) { h.content_hash.bytes[31] ^= 1; });
  differs("prev_hash", [](EventHeader& h) { h.prev_hash.bytes[0] ^= 1; });
  differs("entity", [](EventHeader&) {}, "order:2", "s");
  differs("scope", [](EventHeader&) {}, "order:1", "t");
  // The boundary between entity and scope is length-prefixed: moving a byte across it
  // changes the hash.
  differs("entity/scope boundary", [](EventHeader&) {}, "order:", "1s");

  EventHeader same = base;
  same.timestamp_us += 12345;
  same.flags ^= 0xFFFF;
  same.event_hash.bytes[0] ^= 0xFF;
  EXPECT_EQ(format::compute_event_hash(same, "order:1", "s"), h0);
}

// ---- decode_record ----

std::span<const uint8_t> record_of(const std::vector<uint8_t>& frame) {
  const uint32_t record_bytes = format::frame_record_bytes({frame.data(), 16});
  return {frame.data() + format::kFrameHeaderBytes, record_bytes};
}

TEST(DecodeRecord, RoundTripsEveryFieldOfTheEncodedFrame) {
  const std::vector<uint8_t> frame = golden_frame();
  auto view = format::decode_record(record_of(frame));
  ASSERT_TRUE(view.has_value()) << view.error().to_string();
  const EventHeader want = golden_header();
  const EventHeader& got = view->header;
  EXPECT_EQ(got.event_id, want.event_id);
  EXPECT_EQ(got.correlation_id, want.correlation_id);
  EXPECT_EQ(got.causation_id, want.causation_id);
  EXPECT_EQ(got.global_sequence, want.global_sequence);
  EXPECT_EQ(got.clock, want.clock);
  EXPECT_EQ(got.wall_ms, want.wall_ms);
  EXPECT_EQ(got.timestamp_us, want.timestamp_us);
  EXPECT_EQ(got.kind, want.kind);
  EXPECT_EQ(got.flags, want.flags);
  EXPECT_EQ(got.payload_version, want.payload_version);
  EXPECT_EQ(got.content_hash, want.content_hash);
  EXPECT_EQ(got.prev_hash, want.prev_hash);
  EXPECT_EQ(got.event_hash, want.event_hash);
  EXPECT_EQ(view->context.batch_count, 2u);
  EXPECT_EQ(view->context.batch_index, 1u);
  EXPECT_EQ(view->context.durable_floor, 0x1000u);
  EXPECT_EQ(view->entity, "order:1");
  EXPECT_EQ(view->scope, "s");
  EXPECT_EQ(std::vector<uint8_t>(view->payload.begin(), view->payload.end()), kGoldenPayload);
}

TEST(DecodeRecord, NegativeTimestampAndEmptyPayloadRoundTrip) {
  EventHeader h = golden_header();
  h.timestamp_us = -42;
  std::vector<uint8_t> frame;
  format::encode_frame(h, FrameContext{}, "e", "s", {}, frame);
  EXPECT_EQ(frame.size(), format::frame_bytes(1, 1, 0));
  EXPECT_EQ(frame.size() % format::kFrameAlign, 0u);
  auto view = format::decode_record(record_of(frame));
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->header.timestamp_us, -42);
  EXPECT_TRUE(view->payload.empty());
  EXPECT_EQ(view->context.batch_count, 1u);
  EXPECT_EQ(view->context.batch_index, 0u);
}

std::vector<uint8_t> golden_record() {
  const std::vector<uint8_t> frame = golden_frame();
  auto rec = record_of(frame);
  return {rec.begin(), rec.end()};
}

void expect_corruption(const std::vector<uint8_t>& record, const char* what) {
  auto view = format::decode_record(record);
  ASSERT_FALSE(view.has_value()) << what;
  EXPECT_EQ(view.error().code, ErrorCode::kCorruption) << what << ": " << view.error().to_string();
}

TEST(DecodeRecord, ShorterThanTheFixedPartIsCorruption) {
  std::vector<uint8_t> rec = golden_record();
  rec.resize(format::kRecordFixedBytes - 1);
  expect_corruption(rec, "short");
}

TEST(DecodeRecord, LengthsThatDoNotAddUpAreCorruption) {
  {
    std::vector<uint8_t> rec = golden_record();
    rec.push_back(0);  // One byte more than the lengths say.
    expect_corruption(rec, "extra byte");
  }
  {
    std::vector<uint8_t> rec = golden_record();
    rec.pop_back();
    expect_corruption(rec, "missing byte");
  }
  for (size_t at : {format::kRecEntityBytesAt, format::kRecScopeBytesAt, format::kRecPayloadBytesAt}) {
    std::vector<uint8_t> rec = golden_record();
    rec[at] = static_cast<uint8_t>(rec[at] + 1);
    expect_corruption(rec, "length field + 1");
  }
}

TEST(DecodeRecord, AStoreFlagOtherThanTheSealedPayloadBitIsCorruption) {
  for (size_t i = 0; i < 4; ++i) {
    std::vector<uint8_t> rec = golden_record();
    rec[format::kRecStoreFlagsAt + i] = i == 0 ? 0x02 : 0x01;
    expect_corruption(rec, "reserved record flag");
  }
}

// The sealed-payload bit decodes into the header and is covered by the event hash (that a
// plaintext event's hash is what it was before the bit existed, the golden hash test proves).
TEST(DecodeRecord, TheSealedPayloadBitIsDecodedAndHashed) {
  std::vector<uint8_t> rec = golden_record();
  auto plain_view = format::decode_record(rec);
  ASSERT_TRUE(plain_view.has_value());
  const format::RecordView plain = *plain_view;
  EXPECT_FALSE(plain.header.payload_encrypted);
  const Hash32 plain_hash = format::compute_event_hash(plain.header, plain.entity, plain.scope);
  rec[format::kRecStoreFlagsAt] = 0x01;
  auto sealed_view = format::decode_record(rec);
  ASSERT_TRUE(sealed_view.has_value());
  const format::RecordView& sealed = *sealed_view;
  EXPECT_TRUE(sealed.header.payload_encrypted);
  EXPECT_NE(format::compute_event_hash(sealed.header, sealed.entity, sealed.scope), plain_hash);
}

TEST(DecodeRecord, BatchIndexNotBelowBatchCountIsCorruption) {
  auto with_batch = [](uint32_t count, uint32_t index) {
    std::vector<uint8_t> rec = golden_record();
    util::store_le<uint32_t>(rec.data() + format::kRecBatchCountAt, count);
    util::store_le<uint32_t>(rec.data() + format::kRecBatchIndexAt, index);
    return rec;
  };
  expect_corruption(with_batch(2, 2), "index == count");
  expect_corruption(with_batch(2, 3), "index > count");
  expect_corruption(with_batch(0, 0), "count 0");
  EXPECT_TRUE(format::decode_record(with_batch(3, 2)).has_value());
}

TEST(DecodeRecord, InvalidCoordinateIsCorruption) {
  const size_t entity_at = format::kRecordFixedBytes;
  for (uint8_t bad : {uint8_t{'/'}, uint8_t{'|'}, uint8_t{'='}, uint8_t{0}, uint8_t{0x1F}, uint8_t{0x7F}}) {
    std::vector<uint8_t> rec = golden_record();
    rec[entity_at + 2] = bad;  // "or?er:1"
    expect_corruption(rec, "bad entity byte");
  }
  {
    std::vector<uint8_t> rec = golden_record();
    rec[entity_at + 7] = '/';  // The scope "s" becomes "/".
    expect_corruption(rec, "bad scope");
  }
  {
    // An empty scope: move the scope byte into the payload.
    std::vector<uint8_t> rec = golden_record();
    util::store_le<uint16_t>(rec.data() + format::kRecScopeBytesAt, 0);
    util::store_le<uint32_t>(rec.data() + format::kRecPayloadBytesAt, 4);
    expect_corruption(rec, "empty scope");
  }
}

TEST(DecodeRecord, UnknownRecordVersionIsUnsupported) {
  std::vector<uint8_t> rec = golden_record();
  util::store_le<uint16_t>(rec.data() + format::kRecVersionAt, 2);
  auto view = format::decode_record(rec);
  ASSERT_FALSE(view.has_value());
  EXPECT_EQ(view.error().code, ErrorCode::kUnsupported);
}

// ---- Frame checks ----

TEST(FrameChecksum, FailsOnEverySingleFlippedByteOfTheFrame) {
  const std::vector<uint8_t> frame = golden_frame();
  const size_t body = format::kFrameHeaderBytes + 219;
  ASSERT_TRUE(format::frame_checksum_ok({frame.data(), body}));
  for (size_t i = 0; i < body; ++i) {
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xFF}}) {
      std::vector<uint8_t> bad(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(body));
      bad[i] ^= mask;
      EXPECT_FALSE(format::frame_checksum_ok(bad)) << "byte " << i << " mask " << int{mask};
    }
  }
}

TEST(FrameChecksum, ShortOrTruncatedFrameFails) {
  const std::vector<uint8_t> frame = golden_frame();
  EXPECT_FALSE(format::frame_checksum_ok({frame.data(), 8}));
  EXPECT_FALSE(format::frame_checksum_ok({frame.data(), format::kFrameHeaderBytes + 218}));
}

TEST(FrameHeader, RecordBytesNeedTheMagicAndZeroHeaderIsEndOfData) {
  std::vector<uint8_t> frame = golden_frame();
  EXPECT_EQ(format::frame_record_bytes({frame.data(), 16}), 219u);
  EXPECT_FALSE(format::frame_header_is_zero({frame.data(), 16}));
  frame[format::kFrameMagicAt] ^= 1;
  EXPECT_EQ(format::frame_record_bytes({frame.data(), 16}), 0u);
  const std::vector<uint8_t> zeros(16, 0);
  EXPECT_TRUE(format::frame_header_is_zero(zeros));
  std::vector<uint8_t> one(16, 0);
  one[15] = 1;
  EXPECT_FALSE(format::frame_header_is_zero(one));
}

// ---- Segment header checks ----

TEST(SegmentHeader, WrongIdMagicChecksumOrVersionIsRefused) {
  const std::vector<uint8_t> good = format::encode_segment_header(7, 1234);
  ASSERT_TRUE(format::check_segment_header(good, 7).has_value());
  EXPECT_EQ(format::check_segment_header(good, 8).error().code, ErrorCode::kCorruption);
  EXPECT_EQ(format::check_segment_header({good.data(), 63}, 7).error().code, ErrorCode::kCorruption);
  for (size_t i = 0; i < good.size(); ++i) {
    std::vector<uint8_t> bad = good;
    bad[i] ^= 0x04;
    EXPECT_FALSE(format::check_segment_header(bad, 7).has_value()) << "byte " << i;
  }
  // A newer version with a valid checksum is kUnsupported, not damage.
  std::vector<uint8_t> newer = good;
  util::store_le<uint32_t>(newer.data() + format::kSegVersionAt, 2);
  util::store_le<uint64_t>(newer.data() + format::kSegChecksumAt,
                           util::checksum64({newer.data(), format::kSegChecksumAt}));
  EXPECT_EQ(format::check_segment_header(newer, 7).error().code, ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace batpak
