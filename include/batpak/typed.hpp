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
// A type may also declare a schema version and the type it replaced (batpak/codec.hpp,
// docs/payloads.md); typed appends then stamp that version into the event header.
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

// `options` with T's payload version stamped (kept when it is 0 or already T's). A different
// non-zero AppendOptions::payload_version is kInvalidArgument: the bytes are T's.
template <TypedPayload T>
Result<AppendOptions> typed_append_options(AppendOptions options) {
  constexpr uint16_t version = payload_version_of<T>();
  if (options.payload_version != 0 && options.payload_version != version) {
    return make_error(ErrorCode::kInvalidArgument, "payload_version " + std::to_string(options.payload_version) +
                                                       " contradicts the type's kPayloadVersion " +
                                                       std::to_string(version));
  }
  options.payload_version = version;
  return options;
}

template <TypedPayload T>
Result<Receipt> Store::append(const Coordinate& coordinate, const T& value,
                              const AppendOptions& options) {
  auto stamped = typed_append_options<T>(options);
  if (!stamped) return tl::unexpected(stamped.error());
  auto bytes = encode_typed_payload(value);
  if (!bytes) return tl::unexpected(bytes.error());
  return append(coordinate, EventKind(T::kKind), *bytes, *stamped);
}

template <TypedPayload T>
Result<Receipt> Fence::append(const Coordinate& coordinate, const T& value, const AppendOptions& options) {
  auto stamped = typed_append_options<T>(options);
  if (!stamped) return tl::unexpected(stamped.error());
  auto bytes = encode_typed_payload(value);
  if (!bytes) return tl::unexpected(bytes.error());
  return append(coordinate, EventKind(T::kKind), *bytes, *stamped);
}

}  // namespace batpak
