#include "batpak/status.hpp"

namespace batpak {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kReservedKind: return "reserved_kind";
    case ErrorCode::kTooLarge: return "too_large";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kStoreLocked: return "store_locked";
    case ErrorCode::kCorruption: return "corruption";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kPoisoned: return "poisoned";
    case ErrorCode::kReadOnly: return "read_only";
    case ErrorCode::kClosed: return "closed";
    case ErrorCode::kInvalidSignature: return "invalid_signature";
    case ErrorCode::kDecode: return "decode";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kCheckpointMismatch: return "checkpoint_mismatch";
    case ErrorCode::kPruned: return "pruned";
    case ErrorCode::kHandlerFailed: return "handler_failed";
    case ErrorCode::kFenceActive: return "fence_active";
    case ErrorCode::kFenceNotActive: return "fence_not_active";
    case ErrorCode::kCursorBehind: return "cursor_behind";
    case ErrorCode::kPayloadShredded: return "payload_shredded";
    case ErrorCode::kStateBoundExceeded: return "state_bound_exceeded";
  }
  return "unknown";
}

std::string Error::to_string() const {
  std::string out(error_code_name(code));
  out += ": ";
  out += message;
  if (!file.empty()) out += " [" + file + "@" + std::to_string(offset) + "]";
  if (!entity.empty()) out += " [entity " + entity + "]";
  return out;
}

}  // namespace batpak
