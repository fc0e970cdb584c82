// Whether this build runs under AddressSanitizer (g++ defines __SANITIZE_ADDRESS__, clang
// answers __has_feature). Internal; tests use it too.
#pragma once

namespace batpak::util {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

}  // namespace batpak::util
