#include "util/small_file.hpp"

#include <string>

#include "util/bytes.hpp"
#include "util/hash.hpp"

namespace batpak::util {
namespace {

Error corrupt(const SmallFileFormat& format, std::string_view why) {
  return Error{ErrorCode::kCorruption, std::string(format.name) + " " + std::string(why), {}, 0, {}};
}

}  // namespace

void begin_small_file(std::vector<uint8_t>& out, const SmallFileFormat& format) {
  ByteWriter w(out);
  w.le<uint32_t>(format.magic);
  w.le<uint16_t>(format.version);
  w.le<uint16_t>(0);
}

void seal_small_file(std::vector<uint8_t>& out) { ByteWriter(out).le<uint64_t>(checksum64(out)); }

Result<std::span<const uint8_t>> open_small_file(std::span<const uint8_t> bytes, const SmallFileFormat& format) {
  if (bytes.size() < kSmallFileHeadBytes + kSmallFileSealBytes) return tl::unexpected(corrupt(format, "is truncated"));
  if (load_le<uint32_t>(bytes.data()) != format.magic) return tl::unexpected(corrupt(format, "has a bad magic"));
  const size_t seal_at = bytes.size() - kSmallFileSealBytes;
  if (load_le<uint64_t>(bytes.data() + seal_at) != checksum64(bytes.first(seal_at))) {
    return tl::unexpected(corrupt(format, "checksum mismatch"));
  }
  const uint16_t version = load_le<uint16_t>(bytes.data() + 4);
  if (version > format.version) {
    return make_error(ErrorCode::kUnsupported, std::string(format.name) + " version " + std::to_string(version) +
                                                   " is newer than this library's " + std::to_string(format.version));
  }
  if (version == 0 || load_le<uint16_t>(bytes.data() + 6) != 0) {
    return tl::unexpected(corrupt(format, "has a bad version or reserved field"));
  }
  return bytes.subspan(kSmallFileHeadBytes, seal_at - kSmallFileHeadBytes);
}

}  // namespace batpak::util
