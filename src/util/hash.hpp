// BLAKE3 and XXH3 wrappers. Internal.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "batpak/types.hpp"

namespace batpak::util {

Hash32 blake3(std::span<const uint8_t> data);

// Inputs up to this size (one BLAKE3 chunk) are hashed side by side by blake3_each.
inline constexpr size_t kBlake3SideBySideBytesMax = 1024;

// out[i] = blake3(inputs[i]) for every input. Inputs of at most kBlake3SideBySideBytesMax are
// hashed up to 16 side by side (~2.8x faster per 200-byte input than one at a time); larger
// ones one at a time. REQUIRES: out.size() == inputs.size().
void blake3_each(std::span<const std::span<const uint8_t>> inputs, std::span<Hash32> out);

// Incremental BLAKE3.
class Blake3 {
 public:
  Blake3();
  // Key-derivation mode with a context string: a domain-separated hash.
  explicit Blake3(const char* context);
  // A copy continues from the same state: copying a context-initialised hasher skips
  // re-deriving the context key (one compression) for every hash in that context.
  Blake3(const Blake3& other);
  Blake3& operator=(const Blake3&) = delete;
  // Starts again, as checksum64(data, seed) would: digest() then equals that of the bytes
  // given to update() since.
  void reset(uint64_t seed);
  void update(std::span<const uint8_t> data);
  void update(std::string_view text);
  Hash32 finish();

 private:
  alignas(8) uint8_t state_[1920];  // Opaque blake3_hasher storage (checked in hash.cpp).
};

// One-shot key-derivation-mode BLAKE3.
Hash32 blake3_derive(const char* context, std::span<const uint8_t> data);

// XXH3-64 frame checksum.
uint64_t checksum64(std::span<const uint8_t> data);
// XXH3-64 with a seed: checksums of long byte ranges chain chunk by chunk, each chunk's
// seed being the previous chunk's checksum.
uint64_t checksum64(std::span<const uint8_t> data, uint64_t seed);

// Incremental XXH3-64: digest() equals checksum64() of all bytes given to update(), in order.
// Thread safety: none; one owner.
class Checksum64Stream {
 public:
  Checksum64Stream();
  ~Checksum64Stream();
  Checksum64Stream(const Checksum64Stream&) = delete;
  Checksum64Stream& operator=(const Checksum64Stream&) = delete;
  // Starts again, as checksum64(data, seed) would: digest() then equals that of the bytes
  // given to update() since.
  void reset(uint64_t seed);
  void update(std::span<const uint8_t> data);
  uint64_t digest() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The checksum of a long byte range fed in order, as docs/format.md defines it for segments:
// XXH3-64 of each `chunk_bytes` chunk, seeded with the previous chunk's value (the first
// with 0); the value of the last chunk (0 for no bytes). Feeding the bytes in any pieces
// gives the same value. Thread safety: none; one owner.
class ChunkedChecksum64 {
 public:
  explicit ChunkedChecksum64(uint64_t chunk_bytes);
  void update(std::span<const uint8_t> data);
  uint64_t digest() const;  // Of the bytes given so far.

 private:
  Checksum64Stream stream_;  // The chunk being fed, seeded with seed_.
  uint64_t chunk_bytes_;
  uint64_t in_chunk_ = 0;    // Bytes of that chunk fed so far.
  uint64_t seed_ = 0;        // The value of the last whole chunk.
};

}  // namespace batpak::util
