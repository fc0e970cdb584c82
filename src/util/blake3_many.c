// BLAKE3 of many short inputs at once, through the SIMD many-input kernel of the official C
// sources (blake3_hash_many: up to 16 inputs side by side with AVX-512). Internal. Written in
// C because it uses blake3_impl.h, the sources' internal header; the public API hashes one
// input at a time, so a 200-byte payload costs four single-lane compressions there.
#include <string.h>

#include "blake3_impl.h"

#include "util/blake3_many.h"

enum { kLanesMax = 16 };  // The widest kernel's degree; more inputs are split into groups.

// Finishes one input: its last block (1..64 bytes, or none for an empty input) compressed with
// the root flags into the chaining value of the blocks before it.
static void finish_one(uint32_t cv[8], const uint8_t* input, size_t len, size_t lead_blocks, uint8_t* out) {
  uint8_t block[BLAKE3_BLOCK_LEN] = {0};
  const size_t tail = len - lead_blocks * BLAKE3_BLOCK_LEN;
  if (tail > 0) memcpy(block, input + lead_blocks * BLAKE3_BLOCK_LEN, tail);
  const uint8_t flags = (uint8_t)(CHUNK_END | ROOT | (lead_blocks == 0 ? CHUNK_START : 0));
  blake3_compress_in_place(cv, block, (uint8_t)tail, 0, flags);
  store_cv_words(out, cv);
}

// Hashes one group of inputs that have the same number of blocks before their last one.
static void hash_group(const uint8_t* const* inputs, const size_t* lens, const size_t* at, size_t count,
                       size_t lead_blocks, uint8_t* out) {
  uint8_t cvs[kLanesMax * BLAKE3_OUT_LEN];
  if (lead_blocks > 0) {
    // Every block before the last, all inputs in parallel: chunk counter 0, CHUNK_START on the
    // first block, no end flags (the last block follows in finish_one).
    blake3_hash_many(inputs, count, lead_blocks, IV, 0, false, 0, CHUNK_START, 0, cvs);
  }
  for (size_t k = 0; k < count; ++k) {
    uint32_t cv[8];
    if (lead_blocks > 0) {
      for (size_t w = 0; w < 8; ++w) cv[w] = load32(cvs + k * BLAKE3_OUT_LEN + 4 * w);
    } else {
      memcpy(cv, IV, sizeof cv);
    }
    finish_one(cv, inputs[k], lens[at[k]], lead_blocks, out + at[k] * BLAKE3_OUT_LEN);
  }
}

void batpak_blake3_many_small(const uint8_t* const* inputs, const size_t* lens, size_t n, uint8_t* out) {
  for (size_t lead_blocks = 0; lead_blocks < BLAKE3_CHUNK_LEN / BLAKE3_BLOCK_LEN; ++lead_blocks) {
    const uint8_t* group[kLanesMax];
    size_t at[kLanesMax];
    size_t count = 0;
    for (size_t i = 0; i < n; ++i) {
      const size_t lead = lens[i] == 0 ? 0 : (lens[i] - 1) / BLAKE3_BLOCK_LEN;
      if (lead != lead_blocks) continue;
      group[count] = inputs[i];
      at[count] = i;
      if (++count == kLanesMax) {
        hash_group(group, lens, at, count, lead_blocks, out);
        count = 0;
      }
    }
    if (count > 0) hash_group(group, lens, at, count, lead_blocks, out);
  }
}
