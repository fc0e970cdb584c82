// The tail ring at open: events a kBuffered append left there that their segment lacks
// (the process stopped before the writer thread wrote them) are written into it, and the
// ring is then made again for this open, or removed. docs/durability.md, "kBuffered".
#include <algorithm>

#include "format/format.hpp"
#include "segment/segment_files.hpp"
#include "store/store_impl.hpp"
#include "util/bytes.hpp"
#include "util/durable_file.hpp"
#include "util/random.hpp"
#include "util/wall_time.hpp"
#include "writer/tail_ring.hpp"

namespace batpak {
namespace {

// An event of a record, checked: where its frame goes and what the index keeps of it.
struct CheckedEvent {
  std::string_view entity;
  std::string_view scope;
  index::Entry entry;
  Hash32 event_hash;
  bool hidden = false;
};

// Decodes and checks every frame of `record` against the journal `checker` has seen,
// advancing it. False when a frame is not intact, or does not continue the journal (then
// `checker` must not be used again).
bool check_record(const writer::TailRecord& record, index::ChainChecker& checker, std::vector<CheckedEvent>& out) {
  using format::kFrameHeaderBytes;
  out.clear();
  std::span<const uint8_t> rest = record.frames;
  uint64_t offset = record.segment_offset;
  while (!rest.empty()) {
    if (rest.size() < kFrameHeaderBytes) return false;
    const uint32_t record_bytes = format::frame_record_bytes(rest.first(kFrameHeaderBytes));
    if (record_bytes < format::kRecordFixedBytes || record_bytes > format::kRecordBytesMax) return false;
    const uint64_t frame_bytes = util::align8(kFrameHeaderBytes + record_bytes);
    if (frame_bytes > rest.size() || !format::frame_checksum_ok(rest.first(kFrameHeaderBytes + record_bytes))) {
      return false;
    }
    auto view = format::decode_record(rest.subspan(kFrameHeaderBytes, record_bytes));
    if (!view || checker.check_and_advance(*view)) return false;
    const EventHeader& h = view->header;
    out.push_back(CheckedEvent{view->entity, view->scope,
                               index::Entry{h.event_id, record.segment_id, offset, h.wall_ms,
                                            static_cast<uint32_t>(frame_bytes), h.clock, h.kind},
                               h.event_hash, checker.last_hidden()});
    offset += frame_bytes;
    rest = rest.subspan(frame_bytes);
  }
  return out.size() == record.event_count;
}

// The records that continue the journal where `end` says it ends, each checked and put in
// the index, in order; the first record that does not ends them.
std::vector<writer::TailRecord> take_continuing(Store::Impl& s, index::ChainChecker& checker,
                                                 const std::vector<writer::TailRecord>& records, Recovered& end) {
  std::vector<writer::TailRecord> taken;
  std::vector<CheckedEvent> events;
  uint64_t next_sequence = s.index.size() + 1;
  for (const writer::TailRecord& r : records) {
    if (r.first_sequence + r.event_count <= next_sequence) continue;  // The segment has it.
    const bool here = r.segment_id == end.newest_id && r.segment_offset == end.newest_data_end;
    const bool next_segment = r.segment_id == end.newest_id + 1 && r.segment_offset == format::kSegmentHeaderBytes;
    if (r.first_sequence != next_sequence || !(here || next_segment)) break;
    if (!check_record(r, checker, events)) break;
    for (const CheckedEvent& e : events) {
      if (e.hidden) {
        s.index.add_hidden();
      } else {
        s.index.add_deferring_id(e.entity, e.scope, e.entry, e.event_hash);
      }
      end.wall_ms_max = std::max(end.wall_ms_max, e.entry.wall_ms);
    }
    taken.push_back(r);
    next_sequence += r.event_count;
    end.newest_id = r.segment_id;
    end.newest_data_end = r.segment_offset + r.frames.size();
  }
  return taken;
}

// Writes `records` (which continue the newest segment, `from`; its header first when that
// was torn) and makes them durable.
Status write_records(Store::Impl& s, const Recovered& from, bool header_torn,
                     const std::vector<writer::TailRecord>& records, Recovered& to) {
  writer::SegmentIo io(*s.fs, s.dir, s.segments, /*preallocate_bytes=*/0);
  const auto now_ms = util::wall_ms_of(s.clock->now_us());
  if (header_torn) {
    if (auto st = io.create(from.newest_id, now_ms); !st) return st;
  } else {
    io.adopt(from.newest_id, from.newest_file, from.newest_data_end);
  }
  for (const writer::TailRecord& r : records) {
    if (auto st = io.write(r.segment_id, r.segment_offset, r.frames, now_ms); !st) return st;
  }
  if (auto st = io.sync(); !st) return st;
  for (const writer::TailRecord& r : records) s.segments.set_visible_end(r.segment_id, r.segment_offset + r.frames.size());
  to.newest_file = io.active_file();
  return {};
}

}  // namespace

Result<Recovered> replay_tail_ring(Store::Impl& s, index::ChainChecker& checker, Recovered end) {
  if (s.options.access != AccessMode::kReadWrite) return end;
  const std::string path = segment::join_path(s.dir, writer::kTailRingFileName);
  auto bytes = util::read_small_file(*s.fs, path, writer::kTailRingBytesMax);
  if (!bytes) return tl::unexpected(bytes.error());
  if (!*bytes || end.newest_file == nullptr) return end;
  const std::vector<writer::TailRecord> records = writer::decode_tail_ring(**bytes);
  // A torn segment header is written again (as the writer would): its frames start after it.
  const bool header_torn = end.newest_data_end < format::kSegmentHeaderBytes;
  Recovered from = end;
  if (header_torn) from.newest_data_end = format::kSegmentHeaderBytes;
  Recovered to = from;
  const std::vector<writer::TailRecord> taken = take_continuing(s, checker, records, to);
  if (taken.empty()) return end;
  if (auto st = write_records(s, from, header_torn, taken, to); !st) return tl::unexpected(st.error());
  for (uint64_t id = from.newest_id; id < to.newest_id; ++id) {
    if (auto st = note_footer_due(s, id, /*footer_invalid=*/false); !st) return tl::unexpected(st.error());
  }
  for (const writer::TailRecord& r : taken) s.report.events_from_tail_ring += r.event_count;
  return to;
}

Result<std::unique_ptr<writer::TailRing>> make_tail_ring(Store::Impl& s) {
  const std::string path = segment::join_path(s.dir, writer::kTailRingFileName);
  if (s.options.durability != Durability::kBuffered) {
    auto exists = s.fs->exists(path);
    if (!exists) return tl::unexpected(exists.error());
    if (!*exists) return std::unique_ptr<writer::TailRing>();
    // Removed for good before any append: a ring left behind could hold events of a
    // journal end that a power cut then lost, and a later open would take them.
    if (auto st = s.fs->remove(path); !st) return tl::unexpected(st.error());
    if (auto st = s.fs->sync_dir(s.dir); !st) return tl::unexpected(st.error());
    return std::unique_ptr<writer::TailRing>();
  }
  uint64_t epoch = 0;
  while (epoch == 0) {
    uint8_t random[8];
    util::random_bytes(random);
    epoch = util::load_le<uint64_t>(random);
  }
  auto ring = writer::TailRing::create(*s.fs, s.dir, s.options.tail_ring_bytes, epoch);
  if (!ring && ring.error().code == ErrorCode::kUnsupported) return std::unique_ptr<writer::TailRing>();
  return ring;
}

}  // namespace batpak
