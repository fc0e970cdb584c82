// Writes seed corpora for the fuzz targets, from a real store written by the library into an
// in-memory file system (single events, a batch, a rotation, a torn tail):
//   make_seeds OUT_DIR   ->  OUT_DIR/{fuzz_record,...,fuzz_cli_json,fuzz_tail_ring}/*
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "batpak/batpak.hpp"
#include "fuzz_support.hpp"
#include "delivery/checkpoint.hpp"
#include "index/horizon.hpp"
#include "index/index_checkpoint.hpp"
#include "index/segment_footer.hpp"
#include "segment/manifest.hpp"
#include "segment/segment_files.hpp"
#include "crypto/keyset.hpp"
#include "store/signing_record.hpp"
#include "writer/fence_log.hpp"
#include "writer/tail_ring.hpp"

namespace {

using batpak::fuzz::Bytes;

void write(const std::filesystem::path& path, const Bytes& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

Bytes read_whole(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Bytes with_option(uint8_t option, const Bytes& rest) {
  Bytes out{option};
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

// A real tail ring (it maps its file, so it lives on disk, in `out`/tail_ring.tmp while
// written) with three records, then with the first released. Each seed is the ring's first
// 8 KiB (the fuzz runs cap inputs at 16 KiB) after option byte 1, which seals the header for
// that length.
bool write_tail_ring_seeds(const std::filesystem::path& out) {
  namespace fs = std::filesystem;
  const fs::path dir = out / "tail_ring.tmp";
  fs::create_directories(dir);
  auto posix = batpak::posix_fs();
  auto ring = batpak::writer::TailRing::create(*posix, dir.string(), batpak::writer::kTailRingBytesMin, 0x5eed);
  if (!ring) {
    std::fprintf(stderr, "make_seeds: %s\n", ring.error().to_string().c_str());
    return false;
  }
  auto seed = [&](const char* name) {
    const Bytes all = read_whole(dir / batpak::writer::kTailRingFileName);
    if (all.size() < 8192) return false;
    write(out / "fuzz_tail_ring" / name, with_option(1, Bytes(all.begin(), all.begin() + 8192)));
    return true;
  };
  const Bytes frames(448, 0xA5);
  uint64_t first_end = 0;
  for (uint64_t i = 0; i < 3; ++i) {
    auto end = (*ring)->append({1 + 2 * i, 2, 1, 64 + i * frames.size(), frames});
    if (!end) return false;
    if (i == 0) first_end = *end;
  }
  if (!seed("three_records")) return false;
  (*ring)->release_to(first_end);
  if (!seed("first_released")) return false;
  ring->reset();
  fs::remove_all(dir);
  return true;
}

// Export lines of a DENIAL and a BYPASS event, the reserved kinds import accepts.
bool write_gate_record_seeds(batpak::Store& store, const batpak::Coordinate& order, const std::filesystem::path& out) {
  batpak::GateSet<int> gates;
  (void)gates.add({"closed", [](const int&) { return std::optional<batpak::Denial>(batpak::Denial{{}, "closed", "", {}}); }});
  auto denial = store.append_denial(order, gates.evaluate(1), batpak::EventKind{0x1001}, {});
  auto bypass = store.append_bypassing_gates({order, batpak::EventKind{0x1001}, {}, {}}, {"drill", "seed", "", {}, 0});
  if (!denial || !bypass) return false;
  for (const auto& [name, id] : {std::pair{"denial.json", denial->event_id}, std::pair{"bypass.json", bypass->back().event_id}}) {
    auto event = store.get(id);
    if (!event) return false;
    const std::string line = batpak::event_to_export_json(*event).dump();
    write(out / name, Bytes(line.begin(), line.end()));
  }
  return true;
}

// A store without an index checkpoint, so that its sealed first segment keeps its footer:
// that footer for fuzz_small_files, and both segments with it, trusted (bit 4) and forged
// (bit 5), for fuzz_open.
bool write_footer_seeds(const std::filesystem::path& out) {
  auto mem = std::make_shared<batpak::fuzz::MemoryFs>();
  batpak::StoreOptions options = batpak::fuzz::memory_store_options(mem);
  options.index_checkpoint = false;
  auto store = batpak::Store::open("/mem", options);
  if (!store) return false;
  const Bytes payload = {0x81, 0xa1, 'n', 0x01};
  const auto order = *batpak::Coordinate::make("order:1", "shop");
  while ((*store)->stats().segment_count < 2) {
    if (!(*store)->append(order, batpak::EventKind{0x1001}, payload)) return false;
  }
  if (!(*store)->close()) return false;
  auto in_mem = [&](const std::string& name) { return mem->get(batpak::segment::join_path("/mem", name)); };
  auto seg1 = in_mem(batpak::segment::segment_file_name(1));
  auto seg2 = in_mem(batpak::segment::segment_file_name(2));
  auto footer = in_mem(batpak::index::segment_footer_file_name(1));
  if (!seg1 || !seg2 || !footer) return false;
  write(out / "fuzz_small_files" / "segment_footer.bin", with_option(3, *footer));  // Selector byte 3.
  Bytes input = *seg1;
  input.insert(input.end(), seg2->begin(), seg2->end());
  input.insert(input.end(), footer->begin(), footer->end());
  write(out / "fuzz_open" / "footer", with_option(1 << 4, input));
  write(out / "fuzz_open" / "footer_forged", with_option(3 << 4, input));
  return true;
}

// The horizon file a real Store::drop_history writes (selector byte 6): two entities' heads,
// after dropping every segment but the newest of a store with three. For fuzz_open, the
// three segments before the drop, read-write with a horizon after the first (bit 6), as
// written and fixed up (level 2).
bool write_horizon_seed(const std::filesystem::path& out) {
  auto mem = std::make_shared<batpak::fuzz::MemoryFs>();
  batpak::DropHistoryOptions options;
  options.store = batpak::fuzz::memory_store_options(mem);
  {
    auto store = batpak::Store::open("/mem", options.store);
    if (!store) return false;
    const Bytes payload = {0x81, 0xa1, 'n', 0x01};
    const auto order = *batpak::Coordinate::make("order:1", "shop");
    const auto user = *batpak::Coordinate::make("user:7", "shop");
    for (int i = 0; (*store)->stats().segment_count < 3; ++i) {
      if (!(*store)->append(i % 3 ? order : user, batpak::EventKind{0x1001}, payload)) return false;
    }
    if (!(*store)->close()) return false;
  }
  Bytes segments;
  for (uint64_t id = 1; id <= 3; ++id) {
    auto segment = mem->get(batpak::segment::join_path("/mem", batpak::segment::segment_file_name(id)));
    if (!segment) return false;
    segments.insert(segments.end(), segment->begin(), segment->end());
  }
  write(out / "fuzz_open" / "dropped", with_option(1 << 6, segments));
  write(out / "fuzz_open" / "dropped_fixup", with_option((1 << 6) | 2, segments));
  auto dropped = batpak::Store::drop_history("/mem", UINT64_MAX, options);
  if (!dropped || dropped->segments_removed == 0) return false;
  auto horizon = mem->get(batpak::segment::join_path("/mem", batpak::index::kHorizonFileName));
  if (!horizon) return false;
  write(out / "fuzz_small_files" / "horizon.bin", with_option(6, *horizon));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  namespace fs = std::filesystem;
  const fs::path out = argv[1];
  for (const char* target :
       {"fuzz_record", "fuzz_segment_scan", "fuzz_open", "fuzz_small_files", "fuzz_cli_json", "fuzz_tail_ring"}) {
    fs::create_directories(out / target);
  }
  // JSON Lines the CLI accepts: an append with every optional field, and an export line.
  auto text = [](const std::string& s) { return Bytes(s.begin(), s.end()); };
  write(out / "fuzz_cli_json" / "append.json",
        text(R"({"entity":"order:1","scope":"shop","kind":"1:001","payload":{"qty":3},"idempotency_key":"k",)"
             R"("expected_clock":0,"condition":{"after":2,"entity":"order","kind":"1:002"}})"));
  write(out / "fuzz_cli_json" / "import.json",
        text(R"({"entity":"a","scope":"s","kind":"1:001","event_id":"0190f1c2a3b47c5d8e9fa0b1c2d3e4f5",)"
             R"("correlation_id":"0190f1c2a3b47c5d8e9fa0b1c2d3e4f5","payload_hex":"81a16e01","wall_ms":1,)"
             R"("timestamp_us":1000,"flags":0,"payload_version":0})"));
  // A checkpoint (selector byte 0) and a fences file with an open fence and two ranges (1).
  write(out / "fuzz_small_files" / "checkpoint.bin",
        with_option(0, batpak::delivery::encode_checkpoint({42, "entity=5:order scope=* kinds=any clock=*"})));
  const std::string identity = "entity=5:order scope=1:s kinds=exact:1:001 clock=2-9";
  write(out / "fuzz_small_files" / "region_identity.bin", with_option(0, Bytes(identity.begin(), identity.end())));
  write(out / "fuzz_small_files" / "fences.bin",
        with_option(1, batpak::writer::encode_fence_file({9, {{2, 4}, {6, 7}}})));
  // A manifest naming segment 3, closed cleanly at offset 4096 (selector byte 5).
  write(out / "fuzz_small_files" / "manifest.bin", with_option(5, batpak::segment::encode_manifest({3, 4096})));
  // A signing record (selector byte 7).
  batpak::PublicKey public_key{};
  public_key.fill(0x3c);
  write(out / "fuzz_small_files" / "signing_record.bin", with_option(7, batpak::encode_signing_record(public_key)));
  // A keys file with a live key and a shredded one (selector byte 8).
  const std::vector<batpak::crypto::KeyRecord> keys = {
      {batpak::crypto::KeyState::kLive, batpak::crypto::entity_tag_of("user:1"), {7, 7, 7}},
      {batpak::crypto::KeyState::kShredded, batpak::crypto::entity_tag_of("user:2"), {}}};
  write(out / "fuzz_small_files" / "keys.bin", with_option(8, batpak::crypto::encode_keys_file(std::nullopt, keys)));
  // The same, its keys wrapped under a master key (a version 2 header).
  const batpak::crypto::KeyWrap wrap(batpak::MasterKey{9, 9, 9}, {1, 2, 3});
  write(out / "fuzz_small_files" / "keys_wrapped.bin", with_option(8, batpak::crypto::encode_keys_file(wrap.header(), keys)));
  // A projection cache row (4): key length, key, row.
  const Bytes key = batpak::projection_cache_key("total", 1, {}, "order:1");
  batpak::CacheRow row{5, 7, 1'800'000'000'000'000, {0x81, 0xa1, 0x6e, 0x01}, {}};
  row.head_hash.bytes.fill(0x5a);
  Bytes cache_row{static_cast<uint8_t>(key.size())};
  cache_row.insert(cache_row.end(), key.begin(), key.end());
  const Bytes encoded_row = batpak::encode_cache_row(key, row);
  cache_row.insert(cache_row.end(), encoded_row.begin(), encoded_row.end());
  write(out / "fuzz_small_files" / "cache_row.bin", with_option(4, cache_row));

  if (!write_tail_ring_seeds(out)) return 1;
  if (!write_footer_seeds(out)) {
    std::fprintf(stderr, "make_seeds: no segment footer was written\n");
    return 1;
  }
  if (!write_horizon_seed(out)) {
    std::fprintf(stderr, "make_seeds: no horizon file was written\n");
    return 1;
  }

  auto mem = std::make_shared<batpak::fuzz::MemoryFs>();
  auto store = batpak::Store::open("/mem", batpak::fuzz::memory_store_options(mem));
  if (!store) {
    std::fprintf(stderr, "make_seeds: %s\n", store.error().to_string().c_str());
    return 1;
  }
  const Bytes payload = {0x81, 0xa1, 'n', 0x01};  // MessagePack {"n": 1}
  const auto order = *batpak::Coordinate::make("order:1", "shop");
  const auto user = *batpak::Coordinate::make("user:7", "shop");
  for (int i = 0; i < 3; ++i) {
    if (!(*store)->append(order, batpak::EventKind{0x1001}, payload)) return 1;
  }
  std::vector<batpak::BatchItem> batch = {{order, batpak::EventKind{0x1002}, payload, {}},
                                          {user, batpak::EventKind{0x2001}, payload, {}}};
  if (!(*store)->append_batch(batch)) return 1;
  // Enough events to rotate into a second segment (4 KiB segments).
  for (int i = 0; i < 14; ++i) {
    if (!(*store)->append(i % 2 ? order : user, batpak::EventKind{0x1003}, payload)) return 1;
  }
  if (!write_gate_record_seeds(**store, order, out / "fuzz_cli_json")) return 1;
  if (!(*store)->close()) return 1;
  store->reset();

  auto file = [&](uint64_t id) {
    auto bytes = mem->get(batpak::segment::join_path("/mem", batpak::segment::segment_file_name(id)));
    return bytes ? *bytes : Bytes{};
  };
  // The index checkpoint the close wrote (selector byte 2). It covers the first segment, so
  // that segment has no footer here (write_footer_seeds writes one).
  const auto checkpoint = mem->get(batpak::segment::join_path("/mem", batpak::index::kCheckpointFileName));
  if (checkpoint) write(out / "fuzz_small_files" / "index_checkpoint.bin", with_option(2, *checkpoint));
  const Bytes seg1 = file(1);
  const Bytes seg2 = file(2);
  if (seg1.empty() || seg2.empty()) return 1;

  // One frame and its record, from the first segment.
  const size_t first = batpak::format::kSegmentHeaderBytes;
  const uint32_t record_bytes = batpak::format::frame_record_bytes({seg1.data() + first, 16});
  const Bytes frame(seg1.begin() + first, seg1.begin() + static_cast<std::ptrdiff_t>(first + 16 + record_bytes));
  write(out / "fuzz_record" / "frame.bin", frame);
  write(out / "fuzz_record" / "record.bin", Bytes(frame.begin() + 16, frame.end()));

  // Segments: sealed, newest with preallocated zeros, newest with a torn last frame.
  Bytes torn = seg2;
  const size_t data_end = [&] {
    size_t at = first;
    while (at + 16 <= torn.size()) {
      const uint32_t n = batpak::format::frame_record_bytes({torn.data() + at, 16});
      if (n == 0) break;
      at += batpak::util::align8(16 + n);
    }
    return at;
  }();
  if (data_end > first + 40) std::fill(torn.begin() + static_cast<std::ptrdiff_t>(data_end - 40), torn.begin() + static_cast<std::ptrdiff_t>(data_end), 0xEE);
  write(out / "fuzz_segment_scan" / "sealed", with_option(0, seg1));
  write(out / "fuzz_segment_scan" / "newest", with_option(0, seg2));
  write(out / "fuzz_segment_scan" / "torn", with_option(0, torn));
  write(out / "fuzz_segment_scan" / "sealed_fixup", with_option(2, seg1));

  Bytes both = seg1;
  both.insert(both.end(), seg2.begin(), seg2.end());
  Bytes both_torn = seg1;
  both_torn.insert(both_torn.end(), torn.begin(), torn.end());
  write(out / "fuzz_open" / "read_write", with_option(0, both));
  write(out / "fuzz_open" / "read_write_fixup", with_option(2, both));
  write(out / "fuzz_open" / "read_write_torn", with_option(0, both_torn));
  write(out / "fuzz_open" / "read_only", with_option(1 << 2, both));
  write(out / "fuzz_open" / "salvage_torn", with_option(2 << 2, both_torn));
  // Both segments and the checkpoint the close wrote: trusted (bit 4), and forged (bit 5).
  if (checkpoint) {
    Bytes with_checkpoint = both;
    with_checkpoint.insert(with_checkpoint.end(), checkpoint->begin(), checkpoint->end());
    write(out / "fuzz_open" / "checkpoint", with_option(1 << 4, with_checkpoint));
    write(out / "fuzz_open" / "checkpoint_forged", with_option(3 << 4, with_checkpoint));
  }
  return 0;
}
