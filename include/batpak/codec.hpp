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

namespace detail {

// Whether `bytes` start with one whole MessagePack object, found by a walk that allocates
// nothing. msgpack::unpack allocates an array's or map's elements as soon as it reads the
// declared count, so a few bytes declaring 2^32 elements would ask for 128 GiB; once this
// walk has seen every declared element, what unpack allocates is bounded by the byte count.
inline bool holds_whole_msgpack_object(std::span<const uint8_t> bytes) {
  msgpack::null_visitor visitor;
  return msgpack::parse(reinterpret_cast<const char*>(bytes.data()), bytes.size(), visitor);
}

}  // namespace detail

// Decodes MessagePack bytes into T. Malformed or truncated bytes, or a shape mismatch:
// kDecode. Memory use is bounded by a small multiple of the byte count, whatever lengths
// the bytes declare.
template <class T>
Result<T> decode_payload(std::span<const uint8_t> bytes) {
  try {
    if (!detail::holds_whole_msgpack_object(bytes)) {
      return make_error(ErrorCode::kDecode, "msgpack decode failed: not one whole MessagePack object");
    }
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
