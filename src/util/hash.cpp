#include "util/hash.hpp"

#include <blake3.h>
#include <xxhash.h>

#include <algorithm>
#include <cassert>
#include <cstring>
#include <new>
#include <vector>

#include "util/blake3_many.h"

namespace batpak::util {

static_assert(sizeof(blake3_hasher) <= 1920, "grow Blake3::state_");

static blake3_hasher* as_hasher(uint8_t* storage) {
  return std::launder(reinterpret_cast<blake3_hasher*>(storage));
}

static const blake3_hasher* as_hasher(const uint8_t* storage) {
  return std::launder(reinterpret_cast<const blake3_hasher*>(storage));
}

Hash32 blake3(std::span<const uint8_t> data) {
  Blake3 hasher;
  hasher.update(data);
  return hasher.finish();
}

void blake3_each(std::span<const std::span<const uint8_t>> inputs, std::span<Hash32> out) {
  assert(out.size() == inputs.size());
  std::vector<const uint8_t*> small_inputs;
  std::vector<size_t> small_lens, small_at;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].size() > kBlake3SideBySideBytesMax) {
      out[i] = blake3(inputs[i]);
      continue;
    }
    small_inputs.push_back(inputs[i].data());
    small_lens.push_back(inputs[i].size());
    small_at.push_back(i);
  }
  std::vector<uint8_t> hashes(small_inputs.size() * sizeof(Hash32::bytes));
  batpak_blake3_many_small(small_inputs.data(), small_lens.data(), small_inputs.size(), hashes.data());
  for (size_t k = 0; k < small_at.size(); ++k) {
    std::memcpy(out[small_at[k]].bytes.data(), hashes.data() + k * sizeof(Hash32::bytes), sizeof(Hash32::bytes));
  }
}

Blake3::Blake3() { blake3_hasher_init(new (state_) blake3_hasher); }

void Blake3::update(std::span<const uint8_t> data) {
  blake3_hasher_update(as_hasher(state_), data.data(), data.size());
}

void Blake3::update(std::string_view text) {
  blake3_hasher_update(as_hasher(state_), text.data(), text.size());
}

Hash32 Blake3::finish() {
  Hash32 out;
  blake3_hasher_finalize(as_hasher(state_), out.bytes.data(), out.bytes.size());
  return out;
}

Blake3::Blake3(const char* context) {
  blake3_hasher_init_derive_key(new (state_) blake3_hasher, context);
}

Blake3::Blake3(const Blake3& other) { new (state_) blake3_hasher(*as_hasher(other.state_)); }

Hash32 blake3_derive(const char* context, std::span<const uint8_t> data) {
  Blake3 hasher(context);
  hasher.update(data);
  return hasher.finish();
}

uint64_t checksum64(std::span<const uint8_t> data) { return XXH3_64bits(data.data(), data.size()); }

uint64_t checksum64(std::span<const uint8_t> data, uint64_t seed) {
  return XXH3_64bits_withSeed(data.data(), data.size(), seed);
}

// The state's layout is private to libxxhash (XXH_STATIC_LINKING_ONLY), so it lives on the heap.
struct Checksum64Stream::State {
  State() : xxh(XXH3_createState()) {
    if (xxh == nullptr) throw std::bad_alloc();  // Out of memory, as any allocation.
  }
  ~State() { XXH3_freeState(xxh); }
  XXH3_state_t* xxh;
};

Checksum64Stream::Checksum64Stream() : state_(std::make_unique<State>()) { XXH3_64bits_reset(state_->xxh); }

Checksum64Stream::~Checksum64Stream() = default;

void Checksum64Stream::reset(uint64_t seed) { XXH3_64bits_reset_withSeed(state_->xxh, seed); }

void Checksum64Stream::update(std::span<const uint8_t> data) { XXH3_64bits_update(state_->xxh, data.data(), data.size()); }

uint64_t Checksum64Stream::digest() const { return XXH3_64bits_digest(state_->xxh); }

ChunkedChecksum64::ChunkedChecksum64(uint64_t chunk_bytes) : chunk_bytes_(chunk_bytes) {
  assert(chunk_bytes > 0);
  stream_.reset(0);
}

void ChunkedChecksum64::update(std::span<const uint8_t> data) {
  while (!data.empty()) {
    const auto n = static_cast<size_t>(std::min<uint64_t>(data.size(), chunk_bytes_ - in_chunk_));
    stream_.update(data.first(n));
    data = data.subspan(n);
    in_chunk_ += n;
    if (in_chunk_ == chunk_bytes_) {
      seed_ = stream_.digest();
      stream_.reset(seed_);
      in_chunk_ = 0;
    }
  }
}

uint64_t ChunkedChecksum64::digest() const { return in_chunk_ == 0 ? seed_ : stream_.digest(); }

}  // namespace batpak::util
