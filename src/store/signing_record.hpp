// The signing record: the public key a signing store signs its receipts with, kept in the
// data directory so that a later open without the seed cannot append unsigned events and an
// open with another seed is refused (docs/format.md, "The signing record"). Internal.
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "batpak/env.hpp"
#include "batpak/event.hpp"

namespace batpak {

inline constexpr char kSigningRecordFileName[] = "signing.pub";
inline constexpr uint32_t kSigningRecordMagic = 0x4B535042;  // Bytes "BPSK".
inline constexpr uint16_t kSigningRecordVersion = 1;
inline constexpr size_t kSigningRecordBytes = 48;

std::vector<uint8_t> encode_signing_record(const PublicKey& public_key);
// kCorruption for a bad length, magic, checksum or reserved field; kUnsupported for a newer
// version.
Result<PublicKey> decode_signing_record(std::span<const uint8_t> bytes);

// `dir`'s signing record, or nullopt when the store has none. A damaged one is an error whose
// Error::file is its path.
Result<std::optional<PublicKey>> read_signing_record(Fs& fs, const std::string& dir);
// Writes the record durably (a new file, fsynced, renamed into place, the directory fsynced).
Status write_signing_record(Fs& fs, const std::string& dir, const PublicKey& public_key);

}  // namespace batpak
