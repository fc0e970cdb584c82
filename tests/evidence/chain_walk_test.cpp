// Chain walk evidence (include/batpak/chain_walk.hpp). Invariants proved here: a clean walk
// names where it stopped (genesis, end, limit, horizon) and finds nothing; its body and
// digest depend only on the store's contents and the request; every hash that no longer
// holds (the start's expected hash, a re-sealed payload or header) is a finding naming its
// event; a bad request is a finding, never a failed call.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "batpak/chain_walk.hpp"
#include "evidence/evidence_fixtures.hpp"
#include "support/file_bytes.hpp"
#include "support/reseal.hpp"
#include "support/temp_dir.hpp"
#include "util/hash.hpp"

namespace batpak::testing {
namespace {

constexpr EventKind kKind{0x1001};
constexpr int kCartEvents = 5;

class ChainWalk : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  void open(StoreOptions options = {}) {
    store_.reset();
    auto opened = Store::open(dir(), std::move(options));
    ASSERT_TRUE(opened) << opened.error().to_string();
    store_ = std::move(*opened);
  }
  std::string dir() const { return dir_.sub("store"); }
  // Appends kCartEvents events to "cart:1", one to "other:1" between each.
  void fill() {
    for (int i = 0; i < kCartEvents; ++i) {
      cart_.push_back(append("cart:1", "item " + std::to_string(i)));
      append("other:1", "noise " + std::to_string(i));
    }
  }
  Receipt append(const std::string& entity, const std::string& text) {
    const std::vector<uint8_t> payload(text.begin(), text.end());
    auto receipt = store_->append(*Coordinate::make(entity, "s"), kKind, payload);
    EXPECT_TRUE(receipt) << receipt.error().to_string();
    return receipt ? *receipt : Receipt{};
  }
  ChainWalkReport walk(ChainWalkRequest request) const { return chain_walk_evidence(*store_, request); }
  static ChainWalkRequest from(const EventId& start) {
    ChainWalkRequest request;
    request.start = start;
    return request;
  }
  ChainWalkRequest from_newest() const { return from(cart_.back().event_id); }
  std::vector<std::string> segment_paths() const {
    std::vector<std::string> paths;
    for (const auto& entry : std::filesystem::directory_iterator(dir())) {
      if (entry.path().extension() == ".seg") paths.push_back(entry.path().string());
    }
    std::sort(paths.begin(), paths.end());
    return paths;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::vector<Receipt> cart_;  // The receipts of cart:1, oldest first.
};

// The digest of these receipts' (event id, event hash) pairs, newest first.
Hash32 digest_of(std::vector<Receipt> newest_first) {
  std::vector<uint8_t> bytes;
  for (const Receipt& r : newest_first) {
    bytes.insert(bytes.end(), r.event_id.bytes.begin(), r.event_id.bytes.end());
    bytes.insert(bytes.end(), r.event_hash.bytes.begin(), r.event_hash.bytes.end());
  }
  return util::blake3(bytes);
}

TEST_F(ChainWalk, ACleanWalkReachesGenesisAndDigestsEveryEventNewestFirst) {
  fill();
  ChainWalkRequest request = from_newest();
  request.expected_event_hash = cart_.back().event_hash;
  const ChainWalkReport r = walk(request);
  EXPECT_TRUE(r.ok()) << to_json(r).dump();
  EXPECT_EQ(r.boundary, ChainWalkBoundary::kReachedGenesis);
  EXPECT_EQ(r.entity, "cart:1");
  EXPECT_EQ(r.checked_count, static_cast<uint64_t>(kCartEvents));
  ASSERT_TRUE(r.first_ref && r.last_ref);
  EXPECT_EQ(r.first_ref->event_id, cart_.back().event_id);
  EXPECT_EQ(r.last_ref->event_id, cart_.front().event_id);
  EXPECT_EQ(r.last_ref->clock, 1u);
  EXPECT_FALSE(r.next_parent_hash);
  EXPECT_EQ(r.walk_digest, digest_of({cart_.rbegin(), cart_.rend()}));
  EXPECT_EQ(r.body_hash, compute_body_hash(r));
  EXPECT_EQ(to_json(r)["body"]["boundary"], "reached_genesis");
}

TEST_F(ChainWalk, TheBodyIsTheSameAcrossCallsAndReopens) {
  fill();
  const ChainWalkReport first = walk(from_newest());
  open();
  const ChainWalkReport again = walk(from_newest());
  EXPECT_EQ(canonical_body_bytes(first), canonical_body_bytes(again));
  EXPECT_EQ(first.body_hash, again.body_hash);
  append("cart:1", "newer");  // A newer event does not change a walk from an older start.
  EXPECT_EQ(walk(from_newest()).body_hash, first.body_hash);
}

TEST_F(ChainWalk, TheLimitStopsTheWalkAndNamesWhereItWouldGoOn) {
  fill();
  ChainWalkRequest request = from_newest();
  request.limit = 2;
  const ChainWalkReport r = walk(request);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.boundary, ChainWalkBoundary::kLimitReached);
  EXPECT_EQ(r.checked_count, 2u);
  ASSERT_TRUE(r.next_parent_hash);
  EXPECT_EQ(*r.next_parent_hash, cart_[kCartEvents - 3].event_hash);
  EXPECT_EQ(r.walk_digest, digest_of({cart_[kCartEvents - 1], cart_[kCartEvents - 2]}));
}

TEST_F(ChainWalk, AnEndOnTheChainStopsThereAndAnEndOffItIsAFinding) {
  fill();
  ChainWalkRequest request = from_newest();
  request.end = cart_[2].event_id;
  const ChainWalkReport reached = walk(request);
  EXPECT_TRUE(reached.ok());
  EXPECT_EQ(reached.boundary, ChainWalkBoundary::kReachedEnd);
  EXPECT_EQ(reached.checked_count, static_cast<uint64_t>(kCartEvents - 2));
  request.end = append("other:1", "not an ancestor").event_id;
  const ChainWalkReport missed = walk(request);
  EXPECT_EQ(missed.boundary, ChainWalkBoundary::kReachedGenesis);
  ASSERT_EQ(missed.findings.size(), 1u);
  EXPECT_EQ(missed.findings[0].type, ChainWalkFinding::Type::kEndNotReached);
}

TEST_F(ChainWalk, BadRequestsAreFindingsNeverFailedCalls) {
  fill();
  ChainWalkRequest zero = from_newest();
  zero.limit = 0;
  const ChainWalkReport no_limit = walk(zero);
  ASSERT_EQ(no_limit.findings.size(), 1u);
  EXPECT_EQ(no_limit.findings[0].type, ChainWalkFinding::Type::kInvalidLimit);
  EXPECT_EQ(no_limit.checked_count, 0u);
  ChainWalkRequest unknown{};
  unknown.start.bytes[0] = 0x42;
  const ChainWalkReport missing = walk(unknown);
  ASSERT_EQ(missing.findings.size(), 1u);
  EXPECT_EQ(missing.findings[0].type, ChainWalkFinding::Type::kMissingStart);
  EXPECT_EQ(missing.boundary, ChainWalkBoundary::kBroken);
  EXPECT_TRUE(missing.entity.empty());
  ChainWalkRequest wrong = from_newest();
  wrong.expected_event_hash = cart_.front().event_hash;
  const ChainWalkReport mismatch = walk(wrong);
  ASSERT_EQ(mismatch.findings.size(), 1u);
  EXPECT_EQ(mismatch.findings[0].type, ChainWalkFinding::Type::kStartHashMismatch);
  EXPECT_EQ(mismatch.findings[0].global_sequence, cart_.back().global_sequence);
  EXPECT_EQ(mismatch.boundary, ChainWalkBoundary::kReachedGenesis) << "the chain itself is whole";
}

// A start whose frame fails its checksum exists but cannot be read: a read failure, not a
// missing start.
TEST_F(ChainWalk, AnUnreadableStartIsAReadFailureNotAMissingStart) {
  fill();
  const std::vector<FrameAt> frames = scan_frames(segment_paths());
  ASSERT_EQ(frames.size(), 2u * kCartEvents);
  const FrameAt& f = frames[cart_.back().global_sequence - 1];
  std::vector<uint8_t> bytes = read_file_bytes(f.path);
  bytes[f.payload_at] ^= 0x01;  // Not re-sealed: the frame checksum no longer holds.
  write_file_bytes(f.path, bytes);
  const ChainWalkReport r = walk(from_newest());
  ASSERT_EQ(r.findings.size(), 1u) << to_json(r).dump();
  EXPECT_EQ(r.findings[0].type, ChainWalkFinding::Type::kReadFailure);
  EXPECT_EQ(r.boundary, ChainWalkBoundary::kBroken);
  EXPECT_EQ(r.checked_count, 0u);
}

// Tampering under the open store, with each frame checksum recomputed: the frame still
// reads, so only hashing the payload and the header again can tell.
TEST_F(ChainWalk, AResealedPayloadOrHeaderIsAFindingAtItsEvent) {
  fill();
  const std::vector<FrameAt> frames = scan_frames(segment_paths());
  ASSERT_EQ(frames.size(), 2u * kCartEvents);
  const Receipt& payload_victim = cart_[3];
  const FrameAt& p = frames[payload_victim.global_sequence - 1];
  flip_and_reseal(p.path, p.offset, p.payload_at);
  const Receipt& header_victim = cart_[1];
  const FrameAt& h = frames[header_victim.global_sequence - 1];
  flip_and_reseal(h.path, h.offset, h.offset + format::kFrameHeaderBytes + format::kRecWallMsAt);
  const ChainWalkReport r = walk(from_newest());
  ASSERT_EQ(r.findings.size(), 2u) << to_json(r).dump();
  EXPECT_EQ(r.findings[0].type, ChainWalkFinding::Type::kContentHashMismatch);
  EXPECT_EQ(r.findings[0].global_sequence, payload_victim.global_sequence);
  EXPECT_EQ(r.findings[1].type, ChainWalkFinding::Type::kEventHashMismatch);
  EXPECT_EQ(r.findings[1].global_sequence, header_victim.global_sequence);
  EXPECT_EQ(r.checked_count, static_cast<uint64_t>(kCartEvents)) << "the links still hold";
}

TEST_F(ChainWalk, AWalkAfterADropStopsAtTheHorizonWhoseRecordedHashItLinksTo) {
  StoreOptions small;
  small.segment_bytes_max = 4096;
  open(small);
  fill();
  for (int i = 0; i < 40; ++i) append("filler", std::string(100, 'x'));
  const Receipt kept = append("cart:1", "after the drop");
  ASSERT_TRUE(store_->close());
  store_.reset();
  auto dropped = Store::drop_history(dir(), kept.global_sequence);
  ASSERT_TRUE(dropped) << dropped.error().to_string();
  ASSERT_GT(dropped->first_sequence, cart_.back().global_sequence) << "every older cart event was dropped";
  open(small);
  const ChainWalkReport r = walk(from(kept.event_id));
  EXPECT_TRUE(r.ok()) << to_json(r).dump();
  EXPECT_EQ(r.boundary, ChainWalkBoundary::kReachedHorizon);
  EXPECT_EQ(r.checked_count, 1u);
  ASSERT_TRUE(r.next_parent_hash);
  EXPECT_EQ(*r.next_parent_hash, cart_.back().event_hash);
}

// walk_digest and body_hash were checked with the reference BLAKE3 C implementation (its
// portable build, outside this project's code).
constexpr std::string_view kGoldenBytes =
    R"({"boundary":"limit_reached","checked_count":1,"entity":"cart:1","findings":[],"first_ref":{"clock":2,)"
    R"("event_hash":"41ec219bc15b8c1fcc11ce8a27c185eff326e987ab9a853d23cc5083ceda3b26",)"
    R"("event_id":"ba63d55835ac89c4badc8e0139a03e2e","global_sequence":2},"last_ref":{"clock":2,)"
    R"("event_hash":"41ec219bc15b8c1fcc11ce8a27c185eff326e987ab9a853d23cc5083ceda3b26",)"
    R"("event_id":"ba63d55835ac89c4badc8e0139a03e2e","global_sequence":2},)"
    R"("next_parent_hash":"7ae240e3b322d6cda7d34799179412257db8b8d20731087ca1e61d7b95d3ecec",)"
    R"("request":{"end":null,"expected_event_hash":null,"limit":1,"start":"ba63d55835ac89c4badc8e0139a03e2e"},)"
    R"("schema_version":1,"walk_digest":"240179562c41ea2d3e61a2e1ae501182be65df454dbf031d170742151cd65db0"})";
constexpr std::string_view kGoldenHash = "f32548416e1283057224c14ed2fe0e104c3bf7d73749f0075c19fe415936012e";

// Golden: the canonical bytes of one fixed walk (fixed clock, keyed appends, so fixed ids
// and hashes). A change here changes every stored body_hash; it needs a schema_version
// bump, not a new golden value.
class ChainWalkGolden : public EvidenceStore {};
TEST_F(ChainWalkGolden, CanonicalBytesAndBodyHash) {
  open_with(nullptr);
  add("cart:1", 2);
  add("cart:1", 5);
  auto newest = store_->query(Region::entity("cart:1"));
  ASSERT_TRUE(newest && newest->size() == 2);
  ChainWalkRequest request;
  request.start = newest->back().header.event_id;
  request.limit = 1;
  const ChainWalkReport r = chain_walk_evidence(*store_, request);
  EXPECT_EQ(canonical_body_bytes(r), kGoldenBytes);
  EXPECT_EQ(r.body_hash.to_hex(), kGoldenHash);
}

}  // namespace
}  // namespace batpak::testing
