#include "util/random.hpp"

#include <sodium.h>

#include <array>
#include <cassert>
#include <cstring>

namespace batpak::util {

void random_bytes(std::span<uint8_t> out) {
  struct Pool {
    std::array<uint8_t, 4096> bytes{};
    size_t used = 4096;
  };
  thread_local Pool pool;
  assert(out.size() <= 64);
  if (pool.used + out.size() > pool.bytes.size()) {
    // randombytes_buf asks the kernel 256 bytes per getrandom call (16 calls for the pool);
    // a ChaCha20 stream keyed by 32 fresh kernel bytes is as unpredictable, for one call.
    std::array<uint8_t, randombytes_SEEDBYTES> seed;
    randombytes_buf(seed.data(), seed.size());
    randombytes_buf_deterministic(pool.bytes.data(), pool.bytes.size(), seed.data());
    sodium_memzero(seed.data(), seed.size());
    pool.used = 0;
  }
  std::memcpy(out.data(), pool.bytes.data() + pool.used, out.size());
  pool.used += out.size();
}

}  // namespace batpak::util
