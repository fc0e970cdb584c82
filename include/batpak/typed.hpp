// The typed payload lane: C++ structs encoded as MessagePack maps (msgpack-cxx).
//
// A payload type declares its kind and its fields:
//
//   struct OrderPlaced {
//     static constexpr batpak::EventKind kKind{0x1001};
//     std::string sku;
//     int64_t quantity = 0;
//     MSGPACK_DEFINE_MAP(sku, quantity)   // No semicolon: -Wpedantic flags it.
//   };
//
// The JSON lane (batpak/json.hpp) decodes the same bytes into nlohmann::json.
// Thread safety: encode_typed_payload is a pure function; the typed appends are as safe as
// the Store::append and Fence::append they call.
#pragma once

#include "batpak/codec.hpp"
#include "batpak/store.hpp"

namespace batpak {

// T's payload bytes; kInvalidArgument when msgpack-cxx throws.
template <TypedPayload T>
Result<std::vector<uint8_t>> encode_typed_payload(const T& value) {
  try {
    return encode_payload(value);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInvalidArgument, std::string("msgpack encode failed: ") + e.what());
  }
}

template <TypedPayload T>
Result<Receipt> Store::append(const Coordinate& coordinate, const T& value,
                              const AppendOptions& options) {
  auto bytes = encode_typed_payload(value);
  if (!bytes) return tl::unexpected(bytes.error());
  return append(coordinate, EventKind(T::kKind), *bytes, options);
}

template <TypedPayload T>
Result<Receipt> Fence::append(const Coordinate& coordinate, const T& value, const AppendOptions& options) {
  auto bytes = encode_typed_payload(value);
  if (!bytes) return tl::unexpected(bytes.error());
  return append(coordinate, EventKind(T::kKind), *bytes, options);
}

}  // namespace batpak
