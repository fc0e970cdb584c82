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
#pragma once

#include <msgpack.hpp>

#include "batpak/store.hpp"

namespace batpak {

template <class T>
concept TypedPayload = requires {
  { T::kKind } -> std::convertible_to<EventKind>;
};

// Encodes `value` as MessagePack bytes.
template <class T>
std::vector<uint8_t> encode_payload(const T& value) {
  msgpack::sbuffer buffer;
  msgpack::pack(buffer, value);
  const auto* data = reinterpret_cast<const uint8_t*>(buffer.data());
  return std::vector<uint8_t>(data, data + buffer.size());
}

// Decodes MessagePack bytes into T. Malformed bytes or a shape mismatch: kDecode.
template <class T>
Result<T> decode_payload(std::span<const uint8_t> bytes) {
  try {
    msgpack::object_handle handle =
        msgpack::unpack(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    T value{};
    handle.get().convert(value);
    return value;
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kDecode, std::string("msgpack decode failed: ") + e.what());
  }
}

// Decodes an event's payload into T; an event of another kind is kDecode.
template <TypedPayload T>
Result<T> decode_event(const Event& event) {
  if (event.header.kind != EventKind(T::kKind)) {
    return make_error(ErrorCode::kDecode, "event kind " + event.header.kind.to_string() +
                                              " is not " + EventKind(T::kKind).to_string());
  }
  return decode_payload<T>(event.payload);
}

template <class T>
Result<Receipt> Store::append_typed(const Coordinate& coordinate, const T& value,
                                    AppendOptions options) {
  static_assert(TypedPayload<T>, "T must declare static constexpr EventKind kKind");
  std::vector<uint8_t> bytes;
  try {
    bytes = encode_payload(value);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInvalidArgument, std::string("msgpack encode failed: ") + e.what());
  }
  return append(coordinate, EventKind(T::kKind), bytes, options);
}

}  // namespace batpak
