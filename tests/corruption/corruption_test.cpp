// Corruption suite: damage to a store's files is always detected, by open and by verify,
// or is a torn tail of the newest segment that open reports as such. Never a silent
// success with different data.
//
// The store under test is built once (several segments, several entities, single events
// and atomic batches, kSync so every frame records a tight durable floor), closed, and kept
// in memory byte for byte. Each case damages the files in place and restores them after.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include "format/format.hpp"
#include "segment/manifest.hpp"
#include "segment/scan.hpp"
#include "support/file_bytes.hpp"
#include "support/store_invariants.hpp"
#include "support/temp_dir.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"

namespace batpak::testing {
namespace {

namespace fs = std::filesystem;
constexpr EventKind kKind{0x1001};

using testing::read_file_bytes;
using testing::write_file_bytes;

struct Frame {
  uint64_t offset = 0;
  uint32_t bytes = 0;
  uint64_t global_sequence = 0;
};

struct SegmentInfo {
  std::string path;
  std::vector<uint8_t> pristine;  // The file's bytes after the store was closed.
  std::vector<Frame> frames;
  uint64_t data_end = 0;          // End of the last frame.
};

// The reference store, built once for the whole suite.
struct Reference {
  TempDir tmp;
  std::string dir;
  std::vector<SegmentInfo> segments;
  std::vector<Event> events;      // Every committed event, in commit order.
  size_t last_batch_events = 0;   // The last commit is a batch of this many events.
};

Reference* g_ref = nullptr;

void build_reference() {
  auto* ref = new Reference;
  ref->dir = ref->tmp.sub("store");
  StoreOptions o;
  o.durability = Durability::kSync;
  o.segment_bytes_max = 8192;
  o.preallocate_bytes = 4096;
  {
    auto store = Store::open(ref->dir, o);
    ASSERT_TRUE(store.has_value()) << store.error().to_string();
    for (int i = 0; i < 80; ++i) {
      const std::string entity = "order:" + std::to_string(i % 4);
      const std::string payload = "p" + std::to_string(i) + std::string(static_cast<size_t>((i * 37) % 300), static_cast<char>('a' + i % 26));
      if (i % 9 == 8) {
        std::vector<BatchItem> batch{{coord(entity), kKind, bytes(payload), {}},
                                     {coord("order:batch"), kKind, bytes("b" + payload), {}}};
        ASSERT_TRUE((*store)->append_batch(batch).has_value());
      } else {
        ASSERT_TRUE((*store)->append(coord(entity, i % 2 ? "s" : "t"), kKind, bytes(payload)).has_value());
      }
    }
    std::vector<BatchItem> last{{coord("order:1"), kKind, bytes("last-1"), {}},
                                {coord("order:2"), kKind, bytes("last-2" + std::string(77, 'z')), {}},
                                {coord("order:3"), kKind, bytes("last-3"), {}}};
    ASSERT_TRUE((*store)->append_batch(last).has_value());
    ref->last_batch_events = last.size();
    auto all = (*store)->query(Region::all());
    ASSERT_TRUE(all.has_value());
    ref->events = *all;
    ASSERT_TRUE((*store)->close().has_value());
  }
  const auto paths = segment_paths(ref->dir);
  for (size_t i = 0; i < paths.size(); ++i) {
    SegmentInfo seg;
    seg.path = paths[i];
    seg.pristine = read_file_bytes(seg.path);
    auto file = posix_fs()->open(seg.path, Fs::OpenMode::kRead);
    ASSERT_TRUE(file.has_value());
    const bool newest = i + 1 == paths.size();
    segment::ScanTarget target{file->get(), seg.path, i + 1, newest, seg.pristine.size()};
    auto scan = segment::scan_segment(target, [&](const segment::ScannedFrame& f) -> Status {
      seg.frames.push_back(Frame{f.offset, f.frame_bytes, f.record.header.global_sequence});
      return {};
    });
    ASSERT_TRUE(scan.has_value()) << scan.error().to_string();
    ASSERT_FALSE(scan->torn.has_value());
    seg.data_end = scan->data_end;
    ref->segments.push_back(std::move(seg));
  }
  g_ref = ref;
}

class CorruptionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (g_ref == nullptr) build_reference();
  }
  static void TearDownTestSuite() {
    delete g_ref;
    g_ref = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(g_ref, nullptr) << "building the reference store failed";
    ASSERT_GE(g_ref->segments.size(), 4u) << "the reference store should span several segments";
    ref_ = g_ref;
  }
  // Puts every file back as it was after the reference store was closed.
  void restore(const SegmentInfo* touched) {
    if (touched != nullptr) write_file_bytes(touched->path, touched->pristine);
    write_file_bytes(ref_->segments.back().path, ref_->segments.back().pristine);
    for (const auto& t : torn_files(ref_->dir)) fs::remove(t);
  }
  void restore_all() {
    for (const auto& seg : ref_->segments) write_file_bytes(seg.path, seg.pristine);
    for (const auto& t : torn_files(ref_->dir)) fs::remove(t);
  }

  const SegmentInfo& newest() const { return ref_->segments.back(); }

  // Invariant: what an opened store returns is a prefix of the committed log, byte for byte
  // (never different data); returns its length.
  size_t expect_prefix_of_reference(const Store& store) {
    auto all = store.query(Region::all());
    EXPECT_TRUE(all.has_value()) << all.error().to_string();
    if (!all) return 0;
    EXPECT_LE(all->size(), ref_->events.size());
    for (size_t i = 0; i < all->size() && i < ref_->events.size(); ++i) {
      const Event& a = (*all)[i];
      const Event& b = ref_->events[i];
      EXPECT_EQ(a.header.event_hash, b.header.event_hash) << "event " << i + 1 << " changed";
      EXPECT_EQ(a.payload, b.payload) << "event " << i + 1 << " changed";
      EXPECT_EQ(a.coordinate, b.coordinate) << "event " << i + 1 << " changed";
      EXPECT_EQ(a.header.timestamp_us, b.header.timestamp_us);
      EXPECT_EQ(a.header.flags, b.header.flags);
    }
    return all->size();
  }

  Reference* ref_ = nullptr;
};

// The positions to damage in one segment: every `stride`-th byte (phase varied per file),
// every byte of the segment header and of every frame header, the first and last record
// byte and the padding of every frame, the whole last frame, and the zeroed space after
// the data of the newest segment.
std::vector<uint64_t> positions_for(const SegmentInfo& seg, size_t index, bool newest, uint64_t stride) {
  std::set<uint64_t> out;
  // The zeroed space after the newest segment's data is sampled sparsely: every flip there
  // is a torn tail whose read-write open costs several fsyncs.
  const uint64_t dense_end = newest ? seg.data_end + 64 : seg.pristine.size();
  for (uint64_t p = index % stride; p < seg.pristine.size(); p += p < dense_end ? stride : 97) out.insert(p);
  for (uint64_t p = 0; p < format::kSegmentHeaderBytes; ++p) out.insert(p);
  for (const Frame& f : seg.frames) {
    for (uint64_t p = 0; p < format::kFrameHeaderBytes; ++p) out.insert(f.offset + p);
    const uint32_t record_bytes = util::load_le<uint32_t>(seg.pristine.data() + f.offset + format::kFrameRecordBytesAt);
    const uint64_t body_end = f.offset + format::kFrameHeaderBytes + record_bytes;
    out.insert(f.offset + format::kFrameHeaderBytes);
    out.insert(body_end - 1);
    for (uint64_t p = body_end; p < f.offset + f.bytes; ++p) out.insert(p);  // Padding.
  }
  if (!seg.frames.empty()) {
    const Frame& last = seg.frames.back();
    for (uint64_t p = last.offset; p < last.offset + last.bytes; p += newest ? 3 : 1) out.insert(p);
  }
  if (newest) {
    for (uint64_t p : {seg.data_end, seg.data_end + 1, seg.data_end + 15, seg.data_end + 16,
                       seg.data_end + 300, static_cast<uint64_t>(seg.pristine.size() - 1)}) {
      if (p < seg.pristine.size()) out.insert(p);
    }
  }
  return {out.begin(), out.end()};
}

// Invariant: flipping any one byte of any segment file is detected. Open (read-write and
// read-only) refuses with kCorruption (kUnsupported for a format version) naming the file
// and an offset at or before the damage, or the damage lies in the zeroed space after the
// newest segment's data and open reports a torn tail there, losing nothing. (The store was
// closed cleanly, so its manifest records where that data ended: damage to the last commit
// is refused too. WithoutACleanCloseDamageToTheLastCommitIsATornTail covers the crash case.)
// A salvage open stops at the damage or reports it, and what it returns is a prefix of the log.
TEST_F(CorruptionTest, EveryByteFlipIsDetectedOrIsAReportedTornTail) {
  const size_t newest_index = ref_->segments.size() - 1;
  uint64_t cases = 0;
  uint64_t refused = 0;
  uint64_t torn = 0;
  for (size_t s = 0; s < ref_->segments.size(); ++s) {
    const SegmentInfo& seg = ref_->segments[s];
    const bool is_newest = s == newest_index;
    for (uint64_t pos : positions_for(seg, s, is_newest, 7)) {
      SCOPED_TRACE(seg.path + " byte " + std::to_string(pos));
      std::vector<uint8_t> damaged = seg.pristine;
      damaged[pos] ^= static_cast<uint8_t>(1u << (pos % 8));
      write_file_bytes(seg.path, damaged);
      ++cases;
      // Only damage past the data the clean close recorded can be an unacknowledged tail.
      const bool may_be_torn = is_newest && pos >= newest().data_end;

      std::map<AccessMode, bool> opened;  // Read-only and read-write opens must agree.
      for (AccessMode mode : {AccessMode::kReadOnly, AccessMode::kReadWrite}) {
        StoreOptions o;
        o.access = mode;
        auto store = Store::open(ref_->dir, o);
        if (!store) {
          const Error& e = store.error();
          EXPECT_TRUE(e.code == ErrorCode::kCorruption || e.code == ErrorCode::kUnsupported) << e.to_string();
          EXPECT_EQ(e.file, seg.path) << e.to_string();
          EXPECT_LE(e.offset, pos) << e.to_string();
          opened[mode] = false;
          if (mode == AccessMode::kReadWrite) ++refused;
          continue;
        }
        // Never a silent success: an open that succeeds must report the damage as a torn
        // tail of the newest segment, at or before the flipped byte.
        opened[mode] = true;
        const OpenReport& r = (*store)->open_report();
        ASSERT_TRUE(r.torn_tail) << "a flipped byte went unnoticed by open";
        EXPECT_TRUE(may_be_torn) << "acknowledged data was treated as a torn tail";
        EXPECT_EQ(r.torn_tail_file, seg.path);
        EXPECT_LE(r.torn_tail_offset, pos);
        EXPECT_GE(r.torn_tail_offset, newest().data_end);
        const size_t kept = expect_prefix_of_reference(**store);
        EXPECT_EQ(kept, ref_->events.size()) << "a torn tail after a clean close loses nothing";
        expect_verify_ok(**store, kept);
        if (mode == AccessMode::kReadWrite) {
          EXPECT_TRUE(fs::exists(r.torn_tail_saved_as)) << r.torn_tail_saved_as;
          EXPECT_EQ(fs::file_size(seg.path), r.torn_tail_offset);
          ++torn;
        } else {
          EXPECT_TRUE(r.torn_tail_saved_as.empty());
        }
      }
      EXPECT_EQ(opened[AccessMode::kReadOnly], opened[AccessMode::kReadWrite])
          << "read-only and read-write opens disagree";
      // Salvage mode reads up to the damage and says where it stopped (or that the tail was
      // torn); verify() never reports a clean store it did not fully read.
      restore(&seg);
      write_file_bytes(seg.path, damaged);
      {
        StoreOptions o;
        o.access = AccessMode::kSalvage;
        auto store = Store::open(ref_->dir, o);
        if (!store) {
          EXPECT_EQ(store.error().code, ErrorCode::kUnsupported) << store.error().to_string();
        } else {
          const OpenReport& r = (*store)->open_report();
          auto verified = (*store)->verify();
          ASSERT_TRUE(verified.has_value()) << verified.error().to_string();
          EXPECT_TRUE(r.salvage_stopped_at.has_value() || r.torn_tail || !verified->ok())
              << "salvage open and verify missed the damage";
          if (r.salvage_stopped_at) {
            EXPECT_EQ(r.salvage_stopped_at->file, seg.path);
            EXPECT_EQ(r.salvage_stopped_at->code, ErrorCode::kCorruption);
          }
          expect_prefix_of_reference(**store);
        }
      }
      restore(&seg);
      if (HasFatalFailure()) return;
      if (HasFailure()) return;  // One position's report is enough to debug.
    }
  }
  std::printf("corruption flips: %llu (refused at open: %llu, reported torn tails: %llu), undetected: %d\n",
              static_cast<unsigned long long>(cases), static_cast<unsigned long long>(refused),
              static_cast<unsigned long long>(torn), HasFailure() ? 1 : 0);
  RecordProperty("cases", static_cast<int>(cases));
  RecordProperty("refused", static_cast<int>(refused));
  RecordProperty("torn", static_cast<int>(torn));
  EXPECT_GT(cases, 2500u);
  EXPECT_GT(refused, 0u);
  EXPECT_GT(torn, 0u);
  // The restored store is the reference again.
  restore_all();
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(ref_->dir));
  EXPECT_FALSE(store->open_report().torn_tail);
  EXPECT_EQ(expect_prefix_of_reference(*store), ref_->events.size());
}

// Invariant: without a clean close on record (the manifest's clean_end is 0, as a crash
// leaves it), damage to the newest segment's last commit passes for an unacknowledged write:
// open reports a torn tail at or after the start of that batch and drops the batch whole, or
// refuses; never a silent success.
TEST_F(CorruptionTest, WithoutACleanCloseDamageToTheLastCommitIsATornTail) {
  const std::string manifest = ref_->dir + "/manifest";
  const std::vector<uint8_t> pristine_manifest = read_file_bytes(manifest);
  BATPAK_ASSERT_OK(segment::write_manifest(*posix_fs(), ref_->dir, {ref_->segments.size(), 0}));
  const Frame& last_batch_start = newest().frames[newest().frames.size() - ref_->last_batch_events];
  uint64_t torn = 0;
  for (uint64_t pos = last_batch_start.offset; pos < newest().data_end; pos += 5) {
    SCOPED_TRACE("byte " + std::to_string(pos));
    std::vector<uint8_t> damaged = newest().pristine;
    damaged[pos] ^= static_cast<uint8_t>(1u << (pos % 8));
    write_file_bytes(newest().path, damaged);
    StoreOptions o;
    o.access = AccessMode::kReadOnly;
    auto store = Store::open(ref_->dir, o);
    if (!store) {
      EXPECT_EQ(store.error().code, ErrorCode::kCorruption) << store.error().to_string();
      continue;
    }
    const OpenReport& r = (*store)->open_report();
    ASSERT_TRUE(r.torn_tail) << "a flipped byte went unnoticed by open";
    EXPECT_GE(r.torn_tail_offset, last_batch_start.offset);
    EXPECT_EQ(expect_prefix_of_reference(**store), ref_->events.size() - ref_->last_batch_events);
    ++torn;
    if (HasFailure()) break;
  }
  write_file_bytes(manifest, pristine_manifest);
  restore(&newest());
  EXPECT_GT(torn, 10u);
}

// Invariant: segment footers never hide damage. With the index checkpoint off, open loads
// each sealed segment from its footer (checked against the segment's checksum); a byte
// flipped in a sealed segment then makes the footer unusable, and the scan of that segment
// refuses the store, naming the file and an offset at or before the damage.
TEST_F(CorruptionTest, EveryByteFlipInASealedSegmentIsDetectedWhenOpenUsesFooters) {
  // A copy of the reference store with footers: its checkpoint covers every sealed segment,
  // so a session without it writes them at close.
  TempDir tmp;
  const std::string dir = tmp.sub("with-footers");
  fs::copy(ref_->dir, dir, fs::copy_options::recursive);
  StoreOptions o;
  o.index_checkpoint = false;
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir, o));
    BATPAK_ASSERT_OK(store->close());
  }
  o.access = AccessMode::kReadOnly;
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir, o));
    ASSERT_EQ(store->open_report().segments_from_footers, ref_->segments.size() - 1) << "the footer path runs";
  }
  uint64_t cases = 0;
  for (size_t s = 0; s + 1 < ref_->segments.size(); ++s) {
    const SegmentInfo& seg = ref_->segments[s];
    const std::string path = (fs::path(dir) / fs::path(seg.path).filename()).string();
    for (uint64_t pos : positions_for(seg, s, /*newest=*/false, 13)) {
      SCOPED_TRACE(path + " byte " + std::to_string(pos));
      std::vector<uint8_t> damaged = seg.pristine;
      damaged[pos] ^= static_cast<uint8_t>(1u << (pos % 8));
      write_file_bytes(path, damaged);
      ++cases;
      auto store = Store::open(dir, o);
      ASSERT_FALSE(store.has_value()) << "a flipped byte went unnoticed by an open from footers";
      EXPECT_TRUE(store.error().code == ErrorCode::kCorruption || store.error().code == ErrorCode::kUnsupported)
          << store.error().to_string();
      EXPECT_EQ(store.error().file, path) << store.error().to_string();
      EXPECT_LE(store.error().offset, pos) << store.error().to_string();
      write_file_bytes(path, seg.pristine);
      if (HasFailure()) return;
    }
  }
  EXPECT_GT(cases, 1000u);
}

// Invariant: verify() on an open store re-reads the files: a byte flipped anywhere in the
// committed data of any segment after open is reported as damage in that file, at or before
// the flipped byte.
TEST_F(CorruptionTest, VerifyOfAnOpenStoreReportsEveryFlipInCommittedData) {
  StoreOptions o;
  o.access = AccessMode::kReadOnly;
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(ref_->dir, o));
  expect_verify_ok(*store, ref_->events.size());
  uint64_t cases = 0;
  for (size_t s = 0; s < ref_->segments.size(); ++s) {
    const SegmentInfo& seg = ref_->segments[s];
    for (uint64_t pos : positions_for(seg, s, false, 5)) {
      if (pos >= seg.data_end) continue;  // Only committed bytes are verify's business.
      SCOPED_TRACE(seg.path + " byte " + std::to_string(pos));
      std::vector<uint8_t> damaged = seg.pristine;
      damaged[pos] ^= static_cast<uint8_t>(0x80u >> (pos % 8));
      {
        auto file = posix_fs()->open(seg.path, Fs::OpenMode::kReadWrite);
        ASSERT_TRUE(file.has_value());
        BATPAK_ASSERT_OK((*file)->pwrite(pos, {damaged.data() + pos, 1}));
      }
      ++cases;
      auto report = store->verify();
      ASSERT_TRUE(report.has_value()) << report.error().to_string();
      ASSERT_FALSE(report->ok()) << "verify missed a flipped byte";
      EXPECT_EQ(report->damage->file, seg.path);
      EXPECT_LE(report->damage->offset, pos);
      {
        auto file = posix_fs()->open(seg.path, Fs::OpenMode::kReadWrite);
        ASSERT_TRUE(file.has_value());
        BATPAK_ASSERT_OK((*file)->pwrite(pos, {seg.pristine.data() + pos, 1}));
      }
      if (HasFailure()) return;
    }
  }
  EXPECT_GT(cases, 5000u);
  expect_verify_ok(*store, ref_->events.size());
}

// Invariant: a missing segment in the middle of the sequence refuses to open (kCorruption);
// salvage opens read the segments before the gap only.
TEST_F(CorruptionTest, DeletedMiddleSegmentIsCorruption) {
  TempDir tmp;
  const std::string dir = tmp.sub("copy");
  fs::copy(ref_->dir, dir, fs::copy_options::recursive);
  const std::string removed = dir + "/" + fs::path(ref_->segments[1].path).filename().string();
  fs::remove(removed);
  for (AccessMode mode : {AccessMode::kReadWrite, AccessMode::kReadOnly}) {
    StoreOptions o;
    o.access = mode;
    auto store = Store::open(dir, o);
    ASSERT_FALSE(store.has_value());
    EXPECT_EQ(store.error().code, ErrorCode::kCorruption) << store.error().to_string();
    EXPECT_NE(store.error().message.find("missing"), std::string::npos) << store.error().to_string();
    EXPECT_FALSE(store.error().file.empty());
  }
  StoreOptions o;
  o.access = AccessMode::kSalvage;
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir, o));
  ASSERT_TRUE(store->open_report().salvage_stopped_at.has_value());
  EXPECT_EQ(store->open_report().salvage_stopped_at->file, removed) << "the report names the missing segment";
  EXPECT_EQ(expect_prefix_of_reference(*store), ref_->segments[0].frames.size());
}

// Invariant: a sealed segment that lost bytes at its end refuses to open, whether the cut
// is inside a frame, exactly at a frame boundary (the next segment's first event then does
// not follow on), or leaves only the header or not even that.
TEST_F(CorruptionTest, TruncatedSealedSegmentIsCorruption) {
  const SegmentInfo& seg = ref_->segments[1];
  const uint64_t last_frame = seg.frames.back().offset;
  for (uint64_t size : {static_cast<uint64_t>(seg.pristine.size() - 1), static_cast<uint64_t>(seg.pristine.size() - 8),
                        last_frame + 20, last_frame, seg.frames[1].offset,
                        static_cast<uint64_t>(format::kSegmentHeaderBytes), uint64_t{10}, uint64_t{0}}) {
    SCOPED_TRACE("truncated to " + std::to_string(size));
    TempDir tmp;
    const std::string dir = tmp.sub("copy");
    fs::copy(ref_->dir, dir, fs::copy_options::recursive);
    const std::string path = dir + "/" + fs::path(seg.path).filename().string();
    fs::resize_file(path, size);
    for (AccessMode mode : {AccessMode::kReadWrite, AccessMode::kReadOnly}) {
      StoreOptions o;
      o.access = mode;
      auto store = Store::open(dir, o);
      ASSERT_FALSE(store.has_value()) << "a truncated sealed segment opened";
      EXPECT_EQ(store.error().code, ErrorCode::kCorruption) << store.error().to_string();
      EXPECT_FALSE(store.error().file.empty());
    }
    StoreOptions o;
    o.access = AccessMode::kSalvage;
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir, o));
    EXPECT_TRUE(store->open_report().salvage_stopped_at.has_value());
    EXPECT_LE(expect_prefix_of_reference(*store), ref_->segments[0].frames.size() + seg.frames.size());
  }
}

// Invariant: a torn tail is saved beside the newest segment ("<seg>.torn-<offset>", exactly
// the torn bytes) before it is cut; later opens are clean; the saved file is never taken for
// a segment; appends continue the log.
TEST_F(CorruptionTest, TornTailIsSavedBeforeItIsCutAndLaterOpensAreClean) {
  TempDir tmp;
  const std::string dir = tmp.sub("copy");
  fs::copy(ref_->dir, dir, fs::copy_options::recursive);
  const std::string path = dir + "/" + fs::path(newest().path).filename().string();
  // Half of a copy of the last frame, written where the next frame would go.
  const Frame& last = newest().frames.back();
  std::vector<uint8_t> junk(newest().pristine.begin() + static_cast<ptrdiff_t>(last.offset),
                            newest().pristine.begin() + static_cast<ptrdiff_t>(last.offset + last.bytes / 2));
  {
    auto file = posix_fs()->open(path, Fs::OpenMode::kReadWrite);
    ASSERT_TRUE(file.has_value());
    BATPAK_ASSERT_OK((*file)->pwrite(newest().data_end, junk));
  }
  while (!junk.empty() && junk.back() == 0) junk.pop_back();
  const std::string expected_saved = path + ".torn-" + std::to_string(newest().data_end);
  for (int round = 0; round < 2; ++round) {  // Saving again (a crash before the cut) is safe.
    if (round == 1) {
      auto file = posix_fs()->open(path, Fs::OpenMode::kReadWrite);
      ASSERT_TRUE(file.has_value());
      BATPAK_ASSERT_OK((*file)->pwrite(newest().data_end, junk));
    }
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir));
    const OpenReport& r = store->open_report();
    EXPECT_TRUE(r.torn_tail);
    EXPECT_EQ(r.torn_tail_file, path);
    EXPECT_EQ(r.torn_tail_offset, newest().data_end);
    EXPECT_EQ(r.torn_tail_bytes, junk.size());
    EXPECT_EQ(r.torn_tail_saved_as, expected_saved);
    EXPECT_EQ(read_file_bytes(expected_saved), junk);
    EXPECT_EQ(fs::file_size(path), newest().data_end);
    EXPECT_EQ(expect_prefix_of_reference(*store), ref_->events.size());
  }
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir));
    EXPECT_FALSE(store->open_report().torn_tail);
    EXPECT_EQ(store->open_report().segments, ref_->segments.size());
    BATPAK_ASSERT_OK_AND_ASSIGN(next, store->append(coord("order:1"), kKind, bytes("after the cut")));
    EXPECT_EQ(next.global_sequence, ref_->events.size() + 1);
    expect_log_invariants(*store);
    expect_verify_ok(*store, ref_->events.size() + 1);
  }
  StoreOptions ro;
  ro.access = AccessMode::kReadOnly;
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir, ro));
  EXPECT_FALSE(store->open_report().torn_tail);
  EXPECT_EQ(torn_files(dir).size(), 1u);
}

// Invariant: files of a newer format version are refused with kUnsupported, not read.
TEST_F(CorruptionTest, NewerFormatVersionIsUnsupported) {
  TempDir tmp;
  const std::string dir = tmp.sub("copy");
  fs::copy(ref_->dir, dir, fs::copy_options::recursive);
  const std::string path = dir + "/" + fs::path(ref_->segments[0].path).filename().string();
  std::vector<uint8_t> data = ref_->segments[0].pristine;
  util::store_le<uint32_t>(data.data() + format::kSegVersionAt, format::kFormatVersion + 1);
  util::store_le<uint64_t>(data.data() + format::kSegChecksumAt,
                           util::checksum64({data.data(), format::kSegChecksumAt}));
  write_file_bytes(path, data);
  for (AccessMode mode : {AccessMode::kReadWrite, AccessMode::kReadOnly, AccessMode::kSalvage}) {
    StoreOptions o;
    o.access = mode;
    BATPAK_EXPECT_ERROR(Store::open(dir, o), ErrorCode::kUnsupported);
  }
}

}  // namespace
}  // namespace batpak::testing
