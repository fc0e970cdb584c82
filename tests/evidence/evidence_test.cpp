// Projection run evidence: a deterministic report whose body hash depends only on the
// store's contents and the request, never on the run, the reopen or the cache backend.
#include <gtest/gtest.h>

#include <algorithm>

#include "evidence/evidence_fixtures.hpp"
#include "util/hash.hpp"

namespace batpak::testing {
namespace {

Hash32 blake3_of(std::string_view text) {
  return util::blake3({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

class Evidence : public EvidenceStore {
 protected:
  // Three events on cart:1 (two relevant), one on another entity.
  void fill() {
    add("cart:1", 2);
    note("cart:1");
    add("other", 100);
    add("cart:1", 5);
  }
  EvidenceRun<TypedTotal::State> run(Freshness f = Freshness::consistent()) {
    return project_run_evidence<TypedTotal>(*store_, "cart:1", f);
  }
};

TEST_F(Evidence, TwoRunsGiveIdenticalCanonicalBytesAndBodyHash) {
  open_with(make_memory_cache(1 << 20));
  fill();
  auto first = run();
  auto second = run();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first.report.cache_status.status, CacheStatus::kMiss);
  EXPECT_EQ(second.report.cache_status.status, CacheStatus::kHit);
  EXPECT_EQ(canonical_body_bytes(first.report), canonical_body_bytes(second.report));
  EXPECT_EQ(first.report.body_hash, second.report.body_hash);
}

TEST_F(Evidence, BodyIsIdenticalAcrossReopen) {
  open_with(nullptr);
  fill();
  auto before = run();
  open_with(nullptr);
  auto after = run();
  ASSERT_TRUE(before.ok() && after.ok());
  EXPECT_EQ(canonical_body_bytes(before.report), canonical_body_bytes(after.report));
  EXPECT_EQ(before.report.body_hash, after.report.body_hash);
}

// Cache status differs by backend and warmth; the hashed body must not.
TEST_F(Evidence, BodyIsIdenticalAcrossCacheBackendsWhileCacheStatusDiffers) {
  open_with(nullptr);
  fill();
  auto bypassed = run();
  ASSERT_TRUE(bypassed.ok());
  EXPECT_EQ(bypassed.report.cache_status.status, CacheStatus::kBypassed);

  auto file_cache = make_file_cache(dir_.sub("file-cache"));
  ASSERT_TRUE(file_cache) << file_cache.error().to_string();
  auto lmdb_cache = make_lmdb_cache(dir_.sub("lmdb-cache"), 16u << 20);
  ASSERT_TRUE(lmdb_cache) << lmdb_cache.error().to_string();
  const std::vector<std::shared_ptr<ProjectionCache>> caches{make_memory_cache(1 << 20), *file_cache,
                                                             *lmdb_cache};
  for (const auto& cache : caches) {
    open_with(cache);
    auto miss = run();
    auto hit = run();
    ASSERT_TRUE(miss.ok() && hit.ok());
    EXPECT_EQ(miss.report.cache_status.status, CacheStatus::kMiss);
    EXPECT_EQ(hit.report.cache_status.status, CacheStatus::kHit);
    EXPECT_EQ(canonical_body_bytes(miss.report), canonical_body_bytes(bypassed.report));
    EXPECT_EQ(hit.report.body_hash, bypassed.report.body_hash);
  }
}

TEST_F(Evidence, IncrementalApplyReportsTheSameBodyAsAFullReplay) {
  auto cache = make_memory_cache(1 << 20);
  open_with(cache);
  fill();
  ASSERT_TRUE(run().ok());
  add("cart:1", 10);
  auto incremental = run();
  ASSERT_TRUE(incremental.ok());
  EXPECT_EQ(incremental.report.cache_status.status, CacheStatus::kHit);
  open_with(nullptr);
  auto full = run();
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full.report.cache_status.status, CacheStatus::kBypassed);
  EXPECT_EQ(incremental.report.body_hash, full.report.body_hash);
}

TEST_F(Evidence, CacheFailureIsObservedOutsideTheHashedBody) {
  open_with(nullptr);
  fill();
  auto plain = run();
  auto flaky = std::make_shared<FlakyCache>();
  flaky->fail_get = true;
  open_with(flaky);
  auto failing = run();
  ASSERT_TRUE(plain.ok() && failing.ok());
  EXPECT_EQ(failing.report.cache_status.status, CacheStatus::kUnavailable);
  EXPECT_NE(failing.report.cache_status.reason.find("injected get failure"), std::string::npos);
  EXPECT_EQ(failing.report.body_hash, plain.report.body_hash);
  EXPECT_EQ(to_json(failing.report)["cache_status"]["status"], "unavailable");
}

TEST_F(Evidence, OutputHashIsBlake3OfTheStatesMessagePack) {
  open_with(nullptr);
  fill();
  auto r = run();
  ASSERT_TRUE(r.ok() && r.state);
  EXPECT_EQ(r.state->total, 7);
  EXPECT_EQ(r.generation, 3u);
  EXPECT_EQ(r.report.output_hash.status, RunOutputHash::Status::kKnown);
  EXPECT_EQ(r.report.output_hash.blake3, util::blake3(encode_payload(*r.state)));
}

TEST_F(Evidence, BodyHashIsBlake3OfCanonicalBytesWhichAreTheJsonBody) {
  open_with(nullptr);
  fill();
  auto r = run();
  const std::string bytes = canonical_body_bytes(r.report);
  EXPECT_EQ(r.report.body_hash, blake3_of(bytes));
  EXPECT_EQ(compute_body_hash(r.report), r.report.body_hash);
  const nlohmann::json json = to_json(r.report);
  EXPECT_EQ(json["body"].dump(), bytes);
  EXPECT_EQ(json["body_hash"], r.report.body_hash.to_hex());
  EXPECT_EQ(bytes.find_first_of(" \n\t"), std::string::npos);  // No whitespace.
}

TEST_F(Evidence, BodyHashCoversBodyFieldsButNotCacheStatus) {
  open_with(nullptr);
  fill();
  ProjectionRunReport r = run().report;
  const Hash32 original = compute_body_hash(r);
  r.cache_status = {CacheStatus::kUnavailable, "anything"};
  EXPECT_EQ(compute_body_hash(r), original);
  r.input_frontier->wall_ms += 1;
  EXPECT_NE(compute_body_hash(r), original);
}

// The body follows the relevant history and only it: an irrelevant event on the entity
// leaves frontier, state and hash alone; a relevant one moves all three.
TEST_F(Evidence, BodyHashChangesWithARelevantAppendAndOnlyWithIt) {
  open_with(nullptr);
  fill();
  auto before = run();
  note("cart:1");
  auto after_note = run();
  add("cart:1", 1);
  auto after_add = run();
  ASSERT_TRUE(before.ok() && after_note.ok() && after_add.ok());
  EXPECT_EQ(after_note.report.body_hash, before.report.body_hash);
  EXPECT_NE(after_add.report.body_hash, before.report.body_hash);
  ASSERT_TRUE(before.report.input_frontier && after_add.report.input_frontier);
  EXPECT_GT(after_add.report.input_frontier->global_sequence, before.report.input_frontier->global_sequence);
  EXPECT_NE(after_add.report.output_hash.blake3, before.report.output_hash.blake3);
}

TEST_F(Evidence, ReportDescribesSourcesFreshnessAndFrontier) {
  open_with(nullptr);
  fill();
  auto r = run();
  EXPECT_EQ(r.report.schema_version, 1);
  EXPECT_EQ(r.report.projection_id, "typed-total@1:cart:1");
  ASSERT_EQ(r.report.source_refs.size(), 2u);
  EXPECT_EQ(r.report.source_refs[0].type, ProjectionSourceRef::Type::kEntity);
  EXPECT_EQ(r.report.source_refs[0].entity, "cart:1");
  EXPECT_EQ(r.report.source_refs[1].kind, ItemAdded::kKind);
  EXPECT_EQ(r.report.observed_freshness.status, RunFreshness::Status::kFresh);
  ASSERT_TRUE(r.report.input_frontier);
  EXPECT_EQ(r.report.input_frontier->global_sequence, 4u);  // The last relevant event.
  auto events = store_->read_sequences(std::vector<uint64_t>{4});
  ASSERT_TRUE(events);
  EXPECT_EQ(r.report.input_frontier->wall_ms, events->front().header.wall_ms);
  EXPECT_TRUE(r.report.findings.empty());
}

TEST_F(Evidence, AllKindsProjectionNamesAllKindsAsItsSource) {
  open_with(nullptr);
  fill();
  auto r = project_run_evidence<CountAll>(*store_, "cart:1");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.report.source_refs.size(), 2u);
  EXPECT_EQ(r.report.source_refs[1].type, ProjectionSourceRef::Type::kAllKinds);
  EXPECT_EQ(r.report.input_frontier->global_sequence, 4u);
}

TEST_F(Evidence, StaleRowIsReportedWithTheFrontierItReflects) {
  open_with(make_memory_cache(1 << 20));
  fill();
  auto consistent = run();
  add("cart:1", 10);
  auto stale = run(Freshness::maybe_stale(1000));
  ASSERT_TRUE(consistent.ok() && stale.ok());
  EXPECT_EQ(stale.report.observed_freshness.status, RunFreshness::Status::kStaleAllowed);
  EXPECT_EQ(stale.report.input_frontier->global_sequence, 4u);
  EXPECT_EQ(stale.report.output_hash, consistent.report.output_hash);
  ASSERT_EQ(stale.report.findings.size(), 1u);
  EXPECT_EQ(stale.report.findings[0].type, RunFinding::Type::kStaleUsed);
  EXPECT_EQ(to_json(stale.report)["body"]["requested_freshness"]["max_stale_ms"], 1000);
}

TEST_F(Evidence, FailedRunReturnsTheErrorAndAReportThatSaysSo) {
  open_with(nullptr);
  add("cart:1", 2);
  add("cart:1", -1);
  auto r = project_run_evidence<RejectsNegative>(*store_, "cart:1", Freshness::consistent());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(r.state);
  const ProjectionRunReport& report = r.report;
  EXPECT_EQ(report.projection_id, "rejects-negative@3:cart:1");
  EXPECT_EQ(report.observed_freshness.status, RunFreshness::Status::kUnavailable);
  EXPECT_EQ(report.output_hash.status, RunOutputHash::Status::kUnavailable);
  EXPECT_EQ(report.cache_status.status, CacheStatus::kUnavailable);
  EXPECT_FALSE(report.input_frontier);
  std::vector<RunFinding::Type> types;
  for (const RunFinding& f : report.findings) types.push_back(f.type);
  EXPECT_EQ(types, (std::vector<RunFinding::Type>{
                       RunFinding::Type::kInputFrontierUnknown, RunFinding::Type::kObservedFreshnessUnavailable,
                       RunFinding::Type::kOutputHashUnavailable, RunFinding::Type::kProjectionFailed}));
  EXPECT_EQ(report.findings.back().code, "invalid_argument");
  EXPECT_EQ(report.findings.back().message, "negative quantity");
  EXPECT_EQ(report.body_hash, blake3_of(canonical_body_bytes(report)));
}

TEST_F(Evidence, FindingsAreSortedByTheirJsonName) {
  open_with(nullptr);
  add("cart:1", -1);
  auto r = project_run_evidence<RejectsNegative>(*store_, "cart:1", Freshness::consistent());
  std::vector<std::string> names;
  const nlohmann::json json = to_json(r.report);
  for (const auto& f : json["body"]["findings"]) names.push_back(f["type"]);
  ASSERT_EQ(names.size(), 4u);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

TEST_F(Evidence, FailedRunOnAClosedStoreStillHasAReport) {
  open_with(nullptr);
  fill();
  ASSERT_TRUE(store_->close());
  auto r = run();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kClosed);
  EXPECT_EQ(r.report.findings.back().type, RunFinding::Type::kProjectionFailed);
}

TEST_F(Evidence, EntityWithoutRelevantEventsIsNotApplicable) {
  open_with(make_memory_cache(1 << 20));
  note("cart:1");
  for (const char* entity : {"cart:1", "never-written"}) {
    auto r = project_run_evidence<TypedTotal>(*store_, entity, Freshness::consistent());
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r.state);
    EXPECT_EQ(r.report.observed_freshness.status, RunFreshness::Status::kNotApplicable);
    EXPECT_EQ(r.report.output_hash.status, RunOutputHash::Status::kNotApplicable);
    EXPECT_EQ(r.report.cache_status.status, CacheStatus::kBypassed);
    EXPECT_FALSE(r.report.input_frontier);
    EXPECT_TRUE(r.report.findings.empty()) << entity;
  }
}

// Checked outside batpak: the output hash is BLAKE3 of the hand-written MessagePack
// 82 a5 "total" 07 a5 "items" 02, and the body hash is BLAKE3 of these bytes (both computed
// with the reference C implementation).
constexpr std::string_view kGoldenBytes =
    R"({"findings":[],"input_frontier":{"global_sequence":4,"kind":"visible","wall_ms":1800000000000},)"
    R"("observed_freshness":{"status":"fresh"},"output_hash":{"blake3":)"
    R"("19a0d64d4e04eaf5a275d12415dd12deb565317015f43ea911bd0b16e3c2c7cf","status":"known"},)"
    R"("projection_id":"typed-total@1:cart:1","requested_freshness":{"mode":"consistent"},)"
    R"("schema_version":1,"source_refs":[{"entity":"cart:1","type":"entity"},)"
    R"({"category":1,"type":"relevant_kind","type_id":1}]})";
constexpr std::string_view kGoldenHash = "690c1f56488cffc08acdc20b27dec17222f98492f23b83a79a12a39db4364d83";

// Golden: the canonical bytes of one fixed run. A change here changes every stored
// body_hash; it needs a schema_version bump, not a new golden value.
TEST_F(Evidence, GoldenCanonicalBytesAndBodyHash) {
  open_with(nullptr);
  fill();
  auto r = run();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(canonical_body_bytes(r.report), kGoldenBytes);
  EXPECT_EQ(r.report.body_hash.to_hex(), kGoldenHash);
}

}  // namespace
}  // namespace batpak::testing
