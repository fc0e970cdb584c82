#include "index/horizon.hpp"

#include "batpak/types.hpp"
#include "index/byte_reader.hpp"
#include "segment/segment_files.hpp"
#include "util/bytes.hpp"
#include "util/durable_file.hpp"
#include "util/hash.hpp"
#include "util/small_file.hpp"

namespace batpak::index {
namespace {

// The body inside the small-file envelope (util/small_file.hpp): first_segment_id u64 |
// first_sequence u64 | wall_ms_max u64 | entity count u32 | zero u32 | per entity: name
// length u16, name, clock u32, wall_ms u64, event hash (32).
constexpr util::SmallFileFormat kFormat{kHorizonMagic, kHorizonVersion, "horizon file"};

Error corrupt(const std::string& why) { return Error{ErrorCode::kCorruption, "horizon file " + why, {}, 0, {}}; }

}  // namespace

std::vector<uint8_t> encode_horizon(const Horizon& horizon) {
  std::vector<uint8_t> out;
  util::begin_small_file(out, kFormat);
  util::ByteWriter w(out);
  w.le<uint64_t>(horizon.first_segment_id);
  w.le<uint64_t>(horizon.first_sequence);
  w.le<uint64_t>(horizon.wall_ms_max);
  w.le<uint32_t>(static_cast<uint32_t>(horizon.heads.size()));
  w.le<uint32_t>(0);
  for (const auto& [name, head] : horizon.heads) {
    w.le<uint16_t>(static_cast<uint16_t>(name.size()));
    w.text(name);
    w.le<uint32_t>(head.clock);
    w.le<uint64_t>(head.wall_ms);
    w.bytes(head.event_hash.bytes);
  }
  util::seal_small_file(out);
  return out;
}

Result<Horizon> decode_horizon(std::span<const uint8_t> bytes) {
  auto body = util::open_small_file(bytes, kFormat);
  if (!body) return tl::unexpected(body.error());
  ByteReader r(*body);
  Horizon out;
  out.first_segment_id = r.le<uint64_t>();
  out.first_sequence = r.le<uint64_t>();
  out.wall_ms_max = r.le<uint64_t>();
  const uint32_t count = r.le<uint32_t>();
  const uint32_t reserved = r.le<uint32_t>();
  if (r.short_read() || reserved != 0) return tl::unexpected(corrupt("has a bad header"));
  if (out.first_segment_id < 2 || out.first_sequence == 0) {
    return tl::unexpected(corrupt("names segment " + std::to_string(out.first_segment_id) + " and global sequence " +
                                  std::to_string(out.first_sequence)));
  }
  // Each entity takes at least 47 bytes: a count the body cannot hold is damage, found
  // before any allocation.
  constexpr uint64_t kHeadBytesMin = 2 + 1 + 4 + 8 + 32;
  if (count > r.remaining() / kHeadBytesMin) return tl::unexpected(corrupt("has a bad length"));
  out.heads.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const std::string_view name = r.text(r.le<uint16_t>());
    EntityHead head;
    head.clock = r.le<uint32_t>();
    head.wall_ms = r.le<uint64_t>();
    r.copy(head.event_hash.bytes);
    if (r.short_read()) return tl::unexpected(corrupt("has a bad length"));
    if (!Coordinate::validate_component(name, "entity")) return tl::unexpected(corrupt("holds an invalid entity name"));
    if (!out.heads.empty() && name <= out.heads.back().first) {
      return tl::unexpected(corrupt("has entity names out of order or repeated"));
    }
    if (head.clock == 0 || head.wall_ms > out.wall_ms_max) {
      return tl::unexpected(corrupt("has a head with clock 0 or past its largest wall_ms"));
    }
    out.heads.emplace_back(std::string(name), head);
  }
  if (r.remaining() != 0) return tl::unexpected(corrupt("has a bad length"));
  return out;
}

Result<Horizon> read_horizon(Fs& fs, const std::string& dir) {
  auto horizon = util::read_decoded_small_file<Horizon>(fs, segment::join_path(dir, kHorizonFileName),
                                                        kHorizonBytesMax, decode_horizon);
  if (!horizon) return tl::unexpected(horizon.error());
  return std::move(*horizon).value_or(Horizon{});
}

uint64_t horizon_checksum(const Horizon& horizon) {
  return horizon.dropped() ? util::checksum64(encode_horizon(horizon)) : 0;
}

Status write_horizon(Fs& fs, const std::string& dir, const Horizon& horizon) {
  return util::replace_file_durably(fs, dir, segment::join_path(dir, kHorizonFileName), encode_horizon(horizon));
}

}  // namespace batpak::index
