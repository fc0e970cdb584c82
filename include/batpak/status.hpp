// Errors and results. No exception crosses the public API: every fallible call returns
// batpak::Result<T>, which holds either a value or a batpak::Error.
// Thread safety: plain values; safe to copy between threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace batpak {

// Stable error codes. The numeric values are part of the contract (the CLI prints them and
// scripts may depend on them): never renumber, only append.
enum class ErrorCode : uint16_t {
  kOk = 0,
  kInvalidArgument = 1,   // Malformed input: coordinate, kind, id, option value.
  kReservedKind = 2,      // A public append used a reserved category (0x0 system, 0xD effect).
  kTooLarge = 3,          // A payload, batch or other size is over its limit.
  kConflict = 4,          // expected_clock did not match the entity's clock.
  kNotFound = 5,          // No such event.
  kStoreLocked = 6,       // Another Store (this process or another) holds the directory lock.
  kCorruption = 7,        // Stored bytes fail a checksum, a chain link or a structural rule.
  kIo = 8,                // The operating system reported an I/O error.
  kPoisoned = 9,          // A previous fsync failed; every write fails until the store reopens.
  kReadOnly = 10,         // A write was attempted on a store opened read-only or in salvage mode.
  kClosed = 11,           // The store was closed.
  kInvalidSignature = 12, // A receipt's signature or fields do not verify.
  kDecode = 13,           // A payload could not be decoded into the requested type.
  kTimeout = 14,          // A wait ran out of time.
  kUnsupported = 15,      // Files of a newer format version, or a file system that cannot map files.
  kCheckpointMismatch = 16,  // A cursor checkpoint was written for a different region.
  kPruned = 17,           // A lossy subscriber fell behind its queue capacity and was dropped.
  kHandlerFailed = 18,    // A consumer's handler threw more often than its restart budget.
  kFenceActive = 19,      // A visibility fence is open: plain appends and a second fence wait for it.
  kFenceNotActive = 20,   // The fence was already committed or cancelled (or the store closed it).
  kCursorBehind = 21,     // Dropping history would drop events a durable cursor has not consumed.
  kPayloadShredded = 22,  // The payload's key was destroyed (Store::shred_entity): it cannot be read.
  kStateBoundExceeded = 23,  // A projection's state grew past the bound it declares (kStateEntriesMax).
};

// Returns a stable lowercase name for `code`, e.g. "conflict".
std::string_view error_code_name(ErrorCode code);

// An error: a stable code, a human message and, when known, where it happened.
// Messages never contain payload bytes.
struct Error {
  ErrorCode code = ErrorCode::kOk;
  std::string message;
  std::string file;         // File involved, if any (for kCorruption and kIo).
  uint64_t offset = 0;      // Byte offset within `file`, when `file` is set.
  std::string entity;       // Entity involved, if any (for kConflict).

  // Returns "code: message [file@offset] [entity]".
  std::string to_string() const;
};

template <class T>
using Result = tl::expected<T, Error>;

// A value-less success or an Error.
using Status = tl::expected<void, Error>;

// Builds an unexpected Error for returning from a Result-returning function.
inline tl::unexpected<Error> make_error(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message), {}, 0, {}});
}

}  // namespace batpak
