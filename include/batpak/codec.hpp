// MessagePack payload and state codec (msgpack-cxx): the typed lane.
// Thread safety: pure functions.
#pragma once

#include <msgpack.hpp>

#include <span>
#include <string>
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

// Schema evolution of typed payloads (docs/payloads.md). A payload type may declare its
// schema version, and the type it replaced with the conversion from it:
//
//   struct OrderPlaced {
//     static constexpr batpak::EventKind kKind{0x1001};
//     static constexpr uint16_t kPayloadVersion = 2;     // 1 .. 65535; undeclared: 0
//     using Previous = OrderPlacedV1;                     // same kKind, a lower version
//     static OrderPlaced upcast(OrderPlacedV1 old);       // in memory; stored bytes never change
//     ...
//   };
//
// Typed appends stamp kPayloadVersion into the event header (EventHeader::payload_version).
template <class T>
constexpr uint16_t payload_version_of() {
  if constexpr (requires { T::kPayloadVersion; }) {
    return T::kPayloadVersion;
  } else {
    return 0;
  }
}

template <class T>
concept HasPreviousPayload = requires { typename T::Previous; };

namespace detail {

// Decodes `event` (of T's kind) as T, through T's chain of Previous types when it was
// written with an older version. Version 0 (untyped appends, types without a version) is read
// as the oldest type of the chain.
template <TypedPayload T>
Result<T> decode_versioned(const Event& event) {
  constexpr uint16_t version = payload_version_of<T>();
  const uint16_t stored = event.header.payload_version;
  if (stored == version) return decode_payload<T>(event.payload);
  if (stored > version) {
    return make_error(ErrorCode::kUnsupported, "event " + event.header.event_id.to_hex() + " has payload version " +
                                                   std::to_string(stored) + ", newer than this reader's " +
                                                   std::to_string(version));
  }
  if constexpr (HasPreviousPayload<T>) {
    using Previous = typename T::Previous;
    static_assert(EventKind(Previous::kKind) == EventKind(T::kKind), "Previous must have the same kKind");
    static_assert(payload_version_of<Previous>() < version, "Previous must have a lower kPayloadVersion");
    auto older = decode_versioned<Previous>(event);
    if (!older) return tl::unexpected(older.error());
    return T::upcast(std::move(*older));
  } else {
    if (stored == 0) return decode_payload<T>(event.payload);
    return make_error(ErrorCode::kUnsupported, "event " + event.header.event_id.to_hex() + " has payload version " +
                                                   std::to_string(stored) + ", which no Previous type reads");
  }
}

}  // namespace detail

// Decodes an event's payload into T, upcasting an older payload version through T::Previous.
// An event of another kind, or bytes that do not decode: kDecode. A payload version newer
// than T's, or one its chain of Previous types does not reach: kUnsupported. A payload whose
// key was shredded (Event::payload_shredded): kPayloadShredded.
template <TypedPayload T>
Result<T> decode_event(const Event& event) {
  if (event.payload_shredded) {
    return make_error(ErrorCode::kPayloadShredded, "event " + event.header.event_id.to_hex() + "'s payload was shredded");
  }
  if (event.header.kind != EventKind(T::kKind)) {
    return make_error(ErrorCode::kDecode, "event kind " + event.header.kind.to_string() +
                                              " is not " + EventKind(T::kKind).to_string());
  }
  return detail::decode_versioned<T>(event);
}

}  // namespace batpak
