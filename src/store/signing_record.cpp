#include "store/signing_record.hpp"

#include <algorithm>

#include "segment/segment_files.hpp"
#include "util/durable_file.hpp"
#include "util/small_file.hpp"

namespace batpak {
namespace {

// The body inside the small-file envelope (util/small_file.hpp): the 32-byte Ed25519 key.
constexpr util::SmallFileFormat kFormat{kSigningRecordMagic, kSigningRecordVersion, "signing record"};

}  // namespace

std::vector<uint8_t> encode_signing_record(const PublicKey& public_key) {
  std::vector<uint8_t> out;
  util::begin_small_file(out, kFormat);
  out.insert(out.end(), public_key.begin(), public_key.end());
  util::seal_small_file(out);
  return out;
}

Result<PublicKey> decode_signing_record(std::span<const uint8_t> bytes) {
  auto body = util::open_small_file(bytes, kFormat);
  if (!body) return tl::unexpected(body.error());
  if (bytes.size() != kSigningRecordBytes) {
    return make_error(ErrorCode::kCorruption, "signing record is " + std::to_string(bytes.size()) + " bytes, not " +
                                                  std::to_string(kSigningRecordBytes));
  }
  PublicKey key{};
  std::copy(body->begin(), body->end(), key.begin());
  return key;
}

Result<std::optional<PublicKey>> read_signing_record(Fs& fs, const std::string& dir) {
  // A larger file is refused unread (kCorruption), as is any other length by the decoder.
  return util::read_decoded_small_file<PublicKey>(fs, segment::join_path(dir, kSigningRecordFileName),
                                                  kSigningRecordBytes, decode_signing_record);
}

Status write_signing_record(Fs& fs, const std::string& dir, const PublicKey& public_key) {
  return util::replace_file_durably(fs, dir, segment::join_path(dir, kSigningRecordFileName),
                                    encode_signing_record(public_key));
}

}  // namespace batpak
