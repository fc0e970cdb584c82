// libFuzzer target: opening a store whose segment files are arbitrary bytes (through an
// in-memory Fs), in every access mode, must never crash or hang, and must keep its promises:
//  - damage is a typed error: kCorruption names a file; kSalvage never refuses for damage;
//  - with consistent checksums and chains (fix-up level 2), a store that opens verifies clean;
//  - a read-write open leaves a state that later opens accept without a torn tail, with the
//    same events, and in which one more append (possibly rotating) is recovered too;
//  - the accelerators (an index checkpoint, segment footers) never change what open
//    recovers: read-only opens with and without them agree, unless their checksums were
//    forged; then every read is still a typed answer and never returns an event other than
//    the one asked for.
// Input: byte 0 selects options (bits 0-1: fix-up level, see fuzz_support.hpp; bits 2-3:
// access mode; bit 4: accelerators, below, and only their checks run; bit 5: with bit 4,
// their checksums are forged to match the segments; bit 6: with two segments or more, the
// store has dropped segment 1: a horizon file records the fixed-up chain's state after it, as
// Store::drop_history would, and segment 1 is left behind as after a drop cut short, for
// a read-write open to remove). The rest is split into segment files
// 1, 2, ... at every later occurrence of the segment magic "BATPAKSG" (at most 4 segments).
// With bit 4 the segments end where the first checkpoint magic "BPKINDEX" or footer magic
// "BPFOOTER" starts; from there each piece starting with one of them is the file
// index.checkpoint (the last such piece wins) or the footer of segment 1, 2, ... in order.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "batpak/batpak.hpp"
#include "fuzz_support.hpp"
#include "index/horizon.hpp"
#include "index/index_checkpoint.hpp"
#include "index/segment_footer.hpp"
#include "segment/segment_files.hpp"

namespace {

using batpak::fuzz::Bytes;

constexpr char kDir[] = "/mem";
constexpr size_t kSegmentsMax = 4;

[[noreturn]] void fail() { std::abort(); }

std::vector<Bytes> split_segments(const uint8_t* data, size_t size) {
  const auto* magic = batpak::format::kSegmentMagic;
  constexpr size_t kMagicBytes = sizeof(batpak::format::kSegmentMagic);
  std::vector<size_t> starts{0};
  for (size_t i = 1; i + kMagicBytes <= size && starts.size() < kSegmentsMax; ++i) {
    if (std::memcmp(data + i, magic, kMagicBytes) == 0) starts.push_back(i);
  }
  std::vector<Bytes> out;
  for (size_t k = 0; k < starts.size(); ++k) {
    const size_t end = k + 1 < starts.size() ? starts[k + 1] : size;
    out.emplace_back(data + starts[k], data + end);
  }
  return out;
}

batpak::StoreOptions options_for(const std::shared_ptr<batpak::fuzz::MemoryFs>& fs,
                                 batpak::AccessMode access) {
  batpak::StoreOptions o = batpak::fuzz::memory_store_options(fs);
  o.access = access;
  return o;
}

// The horizon of a drop of segment 1, from the chain fixer's state after that segment: at
// fix-up level 2 exactly what Store::drop_history records for it.
Bytes horizon_after_first_segment(const batpak::fuzz::ChainFixer& chain) {
  batpak::index::Horizon horizon;
  horizon.first_segment_id = 2;
  horizon.first_sequence = chain.next_sequence;
  for (const auto& [entity, head] : chain.heads) {
    horizon.heads.push_back({entity, {head.clock, head.event_hash, head.wall_ms}});
    horizon.wall_ms_max = std::max(horizon.wall_ms_max, head.wall_ms);
  }
  std::sort(horizon.heads.begin(), horizon.heads.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return batpak::index::encode_horizon(horizon);
}

// Opens read-only and checks the result is clean and holds `events` events.
void expect_clean_reopen(const std::shared_ptr<batpak::fuzz::MemoryFs>& fs, uint64_t events) {
  auto again = batpak::Store::open(kDir, options_for(fs, batpak::AccessMode::kReadOnly));
  if (!again) fail();
  const batpak::OpenReport& report = (*again)->open_report();
  if (report.torn_tail || report.events_recovered != events) fail();
  auto verified = (*again)->verify();
  if (!verified) fail();
}

// Where the accelerators start in data[0, size): the first checkpoint or footer magic, or
// `size` for none; and from there, where each next piece starts.
size_t next_accelerator(const uint8_t* data, size_t size, size_t from) {
  constexpr size_t kMagicBytes = sizeof(batpak::index::kCheckpointMagic);
  static_assert(sizeof(batpak::index::kFooterMagic) == kMagicBytes);
  for (size_t i = from; i + kMagicBytes <= size; ++i) {
    if (std::memcmp(data + i, batpak::index::kCheckpointMagic, kMagicBytes) == 0 ||
        std::memcmp(data + i, batpak::index::kFooterMagic, kMagicBytes) == 0) {
      return i;
    }
  }
  return size;
}

// Puts the accelerator pieces of data[0, size) into `fs` beside `segments`, forging their
// checksums when `forged`.
void put_accelerators(const uint8_t* data, size_t size, const std::vector<Bytes>& segments, bool forged,
                      batpak::fuzz::MemoryFs& fs) {
  size_t footers = 0;
  for (size_t at = 0; at < size;) {
    const size_t end = next_accelerator(data, size, at + 1);
    Bytes piece(data + at, data + end);
    at = end;
    if (std::memcmp(piece.data(), batpak::index::kCheckpointMagic, sizeof(batpak::index::kCheckpointMagic)) == 0) {
      if (forged) batpak::fuzz::forge_checkpoint_checksums(piece, segments);
      fs.put(batpak::segment::join_path(kDir, batpak::index::kCheckpointFileName), std::move(piece));
    } else if (footers < segments.size()) {
      ++footers;
      if (forged) batpak::fuzz::forge_footer_checksums(piece, segments[footers - 1]);
      fs.put(batpak::segment::join_path(kDir, batpak::index::segment_footer_file_name(footers)), std::move(piece));
    }
  }
}

bool same_events(const std::vector<batpak::Event>& a, const std::vector<batpak::Event>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const batpak::Event& x, const batpak::Event& y) {
    return x.header.event_id == y.header.event_id && x.header.global_sequence == y.header.global_sequence &&
           x.header.event_hash == y.header.event_hash;
  });
}

// The accelerator checks (input bit 4), on read-only opens, which change no file.
void check_accelerated_open(const std::shared_ptr<batpak::fuzz::MemoryFs>& fs, bool forged) {
  batpak::StoreOptions without_options = options_for(fs, batpak::AccessMode::kReadOnly);
  without_options.index_checkpoint = false;
  without_options.segment_footers = false;
  auto with = batpak::Store::open(kDir, options_for(fs, batpak::AccessMode::kReadOnly));
  if (!forged) {
    auto without = batpak::Store::open(kDir, without_options);
    if (with.has_value() != without.has_value()) fail();
    if (!with) return;
    if ((*with)->open_report().events_recovered != (*without)->open_report().events_recovered) fail();
    auto a = (*with)->query(batpak::Region::all());
    auto b = (*without)->query(batpak::Region::all());
    if (a.has_value() != b.has_value() || (a && !same_events(*a, *b))) fail();
    return;
  }
  if (!with) return;
  auto all = (*with)->query(batpak::Region::all());
  if (!all) return;
  for (const batpak::Event& e : *all) {
    auto got = (*with)->get(e.header.event_id);
    if (got && got->header.event_id != e.header.event_id) fail();
    (void)(*with)->walk_ancestors(e.header.event_id, 4);
  }
  (void)(*with)->verify();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int level = data[0] & 3;
  const int mode = (data[0] >> 2) & 3;
  const batpak::AccessMode access = mode == 1   ? batpak::AccessMode::kReadOnly
                                    : mode == 2 ? batpak::AccessMode::kSalvage
                                                : batpak::AccessMode::kReadWrite;
  const bool accelerated = (data[0] & 0x10) != 0;
  const size_t segments_end = accelerated ? 1 + next_accelerator(data + 1, size - 1, 0) : size;
  auto fs = std::make_shared<batpak::fuzz::MemoryFs>();
  batpak::fuzz::ChainFixer chain;
  std::vector<Bytes> segments = segments_end > 1 ? split_segments(data + 1, segments_end - 1) : std::vector<Bytes>{};
  const bool dropped = (data[0] & 0x40) != 0 && segments.size() >= 2;
  for (size_t i = 0; i < segments.size(); ++i) {
    batpak::fuzz::fix_segment(segments[i], i + 1, level, chain);
    fs->put(batpak::segment::join_path(kDir, batpak::segment::segment_file_name(i + 1)), segments[i]);
    if (dropped && i == 0) {
      fs->put(batpak::segment::join_path(kDir, batpak::index::kHorizonFileName), horizon_after_first_segment(chain));
    }
  }
  if (accelerated) {
    const bool forged = (data[0] & 0x20) != 0;
    put_accelerators(data + segments_end, size - segments_end, segments, forged, *fs);
    check_accelerated_open(fs, forged);
    return 0;
  }

  auto store = batpak::Store::open(kDir, options_for(fs, access));
  if (!store) {
    const batpak::Error& e = store.error();
    if (e.code == batpak::ErrorCode::kCorruption &&
        (access == batpak::AccessMode::kSalvage || e.file.empty())) {
      fail();
    }
    return 0;
  }
  auto verified = (*store)->verify();
  if (!verified) fail();
  if (level == 2 && access != batpak::AccessMode::kSalvage && !verified->ok()) fail();
  const uint64_t events = (*store)->open_report().events_recovered;
  const batpak::StoreStats stats = (*store)->stats();
  if (stats.event_count != events) fail();
  if (access != batpak::AccessMode::kReadWrite) return 0;

  // Read-write: the recovered state must be a clean starting point for the next open...
  if (!(*store)->close()) fail();
  store->reset();
  expect_clean_reopen(fs, events);
  // ...and for the next append, which must itself be recovered.
  auto writable = batpak::Store::open(kDir, options_for(fs, batpak::AccessMode::kReadWrite));
  if (!writable) fail();
  if ((*writable)->open_report().torn_tail) fail();
  const std::vector<uint8_t> payload = {0x81, 0xa1, 'n', 0x01};
  auto receipt = (*writable)->append(*batpak::Coordinate::make("order:1", "shop"),
                                     batpak::EventKind{0x1001}, payload);
  if (!receipt || receipt->global_sequence != stats.last_global_sequence + 1) fail();
  if (!(*writable)->close()) fail();
  writable->reset();
  expect_clean_reopen(fs, events + 1);
  return 0;
}
