// Little-endian fixed-width encoding helpers. Internal.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace batpak::util {

// An allocator whose resize() leaves new bytes uninitialised, for buffers that a read fills
// at once: zeroing them first cost about as many instructions as checksumming them.
template <class T>
struct DefaultInitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <class U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}
  template <class U>
  void construct(U* at) noexcept {
    ::new (static_cast<void*>(at)) U;  // Default-initialisation: no zeroing.
  }
  template <class U, class... Args>
  void construct(U* at, Args&&... args) {
    ::new (static_cast<void*>(at)) U(std::forward<Args>(args)...);
  }
};

// Bytes read from a file; never read before they are written.
using ReadBuffer = std::vector<uint8_t, DefaultInitAllocator<uint8_t>>;

template <class T>
inline void store_le(uint8_t* out, T value) {
  static_assert(std::is_integral_v<T>);
  for (size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<uint8_t>(static_cast<uint64_t>(value) >> (8 * i));
}

template <class T>
inline T load_le(const uint8_t* in) {
  static_assert(std::is_integral_v<T>);
  uint64_t value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) value |= static_cast<uint64_t>(in[i]) << (8 * i);
  return static_cast<T>(value);
}

// Appends bytes to a growing buffer.
class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>& out) : out_(out) {}
  template <class T>
  void le(T value) {
    size_t at = out_.size();
    out_.resize(at + sizeof(T));
    store_le<T>(out_.data() + at, value);
  }
  void bytes(std::span<const uint8_t> data) {
    if (data.empty()) return;
    const size_t at = out_.size();
    out_.resize(at + data.size());
    std::memcpy(out_.data() + at, data.data(), data.size());
  }
  void text(std::string_view s) {
    bytes({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  }

 private:
  std::vector<uint8_t>& out_;
};

inline constexpr uint64_t align8(uint64_t n) { return (n + 7) & ~uint64_t{7}; }

}  // namespace batpak::util
