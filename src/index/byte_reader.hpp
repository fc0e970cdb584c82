// A bounds-checked reader of file formats (index checkpoint, segment footers). Internal.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

#include "batpak/env.hpp"
#include "batpak/status.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"
#include "util/page_array.hpp"

namespace batpak::index {

// Bounds-checked forward reader over little-endian bytes held in memory, or read from a file
// one window at a time into a reused buffer (so loading a large index checkpoint touches no
// more fresh memory than the index it builds). Every read past the end, or after a failed
// file read, sets short_read() and yields zeros. Thread safety: none; one owner.
class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> bytes) : view_(bytes), left_(bytes.size()) {}
  // Reads `file`'s bytes [0, end) and checksums them as they arrive (checksum()).
  ByteReader(File& file, uint64_t end) : file_(&file), left_(end) {}

  template <class T>
  T le() {
    const uint8_t* at = take(sizeof(T));
    return at ? util::load_le<T>(at) : T{};
  }
  std::string_view text(size_t len) {
    const uint8_t* at = take(len);
    return at ? std::string_view(reinterpret_cast<const char*>(at), len) : std::string_view();
  }
  template <size_t N>
  void copy(std::array<uint8_t, N>& out) {
    if (const uint8_t* at = take(N)) std::memcpy(out.data(), at, N);
  }
  // The next `len` bytes, or nullptr (and short_read()) when there are not that many.
  const uint8_t* take(size_t len) {
    if (short_ || len > left_ || (len > view_.size() - at_ && !refill(len))) {
      short_ = true;
      return nullptr;
    }
    const uint8_t* out = view_.data() + at_;
    at_ += len;
    left_ -= len;
    return out;
  }
  bool short_read() const { return short_; }
  uint64_t remaining() const { return left_; }
  // File mode: the error of a failed read, if any, and the XXH3-64 of the bytes read so far.
  const std::optional<Error>& read_error() const { return read_error_; }
  uint64_t checksum() const { return checksum_.digest(); }

 private:
  static constexpr size_t kWindowBytes = 256u << 10;  // Stays in the CPU cache while decoded.

  // File mode: keeps the unread bytes and reads more behind them, at least `len` in all.
  bool refill(size_t len);

  File* file_ = nullptr;
  util::PageArray<uint8_t> buffer_;
  uint64_t file_offset_ = 0;
  util::Checksum64Stream checksum_;
  std::optional<Error> read_error_;
  std::span<const uint8_t> view_;  // Bytes in memory: the whole input, or buffer_'s window.
  size_t at_ = 0;                  // Read position in view_.
  uint64_t left_ = 0;              // Bytes not yet read of the whole input.
  bool short_ = false;
};

// The last 8 bytes of a file of `size` bytes (at least 8), as a little-endian u64: the
// checksum the file formats end with. A short read is kCorruption.
Result<uint64_t> read_trailing_checksum(File& file, uint64_t size);

}  // namespace batpak::index
