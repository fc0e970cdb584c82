// MessagePack payload and state codec (msgpack-cxx): the typed lane.
// Thread safety: pure functions.
#pragma once

#include <msgpack.hpp>

#include <span>
#include <vector>

#include "batpak/event.hpp"

namespace batpak {

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

}  // namespace batpak
