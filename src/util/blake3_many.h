/* BLAKE3 of many inputs of at most one chunk each. Internal; C, so that blake3_many.c can
 * use the BLAKE3 sources' internal header. */
#ifndef BATPAK_UTIL_BLAKE3_MANY_H
#define BATPAK_UTIL_BLAKE3_MANY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Writes BLAKE3(inputs[i]) (32 bytes) to out + 32 * i for each of the n inputs.
 * REQUIRES: lens[i] <= 1024 (one BLAKE3 chunk); out holds 32 * n bytes. */
void batpak_blake3_many_small(const uint8_t* const* inputs, const size_t* lens, size_t n, uint8_t* out);

#ifdef __cplusplus
}
#endif

#endif
