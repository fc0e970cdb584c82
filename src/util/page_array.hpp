// Zero-filled arrays for the index's large tables, backed by whole pages. Internal.
//
// Why not std::vector: the first touch of fresh memory faults once per 4 KiB page, and an
// open that rebuilds a million-event index touches ~150 MB. Large arrays here are anonymous
// mappings advised for transparent huge pages and populated in one call
// (MADV_POPULATE_WRITE), which costs a fraction of the page-by-page faults (see
// docs/performance.md, "Index memory"). The kernel zero-fills them, so an all-zero value
// needs no initialising pass.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

namespace batpak::util {

// `bytes` of zeroed memory: calloc below kPageArrayMappedBytesMin (and always under
// AddressSanitizer), else an anonymous mapping advised for huge pages and populated. Never
// null: failure throws std::bad_alloc, as a std::vector's allocation would.
void* allocate_zeroed_pages(size_t bytes);
// REQUIRES: `data` came from allocate_zeroed_pages(bytes) with the same `bytes`.
void free_zeroed_pages(void* data, size_t bytes);
inline constexpr size_t kPageArrayMappedBytesMin = size_t{256} << 10;

// A fixed-size array of `T` whose elements start as all-zero bytes.
// REQUIRES: T is trivially copyable and all-zero bytes are a valid T.
// Thread safety: none (a plain array).
template <class T>
class PageArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  PageArray() = default;
  explicit PageArray(size_t count)
      : data_(count ? static_cast<T*>(allocate_zeroed_pages(count * sizeof(T))) : nullptr), count_(count) {}
  PageArray(PageArray&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), count_(std::exchange(other.count_, 0)) {}
  PageArray& operator=(PageArray&& other) noexcept {
    PageArray(std::move(other)).swap(*this);
    return *this;
  }
  PageArray(const PageArray&) = delete;
  PageArray& operator=(const PageArray&) = delete;
  ~PageArray() {
    if (data_) free_zeroed_pages(data_, count_ * sizeof(T));
  }

  void swap(PageArray& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(count_, other.count_);
  }
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  T* begin() { return data_; }
  T* end() { return data_ + count_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + count_; }

 private:
  T* data_ = nullptr;
  size_t count_ = 0;
};

// An append-only sequence of `T` in chunks of kChunkSize values, so that growing it never
// moves what is stored (no copy of a 100 MB table under a lock) and indexing stays two
// loads. The first chunk doubles from a small size, so a small store takes little memory.
// REQUIRES: as PageArray. Thread safety: none.
template <class T>
class ChunkedArray {
 public:
  static constexpr size_t kChunkShift = 16;
  static constexpr size_t kChunkSize = size_t{1} << kChunkShift;
  static constexpr size_t kFirstChunkMin = 256;

  size_t size() const { return size_; }
  T& operator[](size_t i) { return chunks_[i >> kChunkShift][i & (kChunkSize - 1)]; }
  const T& operator[](size_t i) const { return chunks_[i >> kChunkShift][i & (kChunkSize - 1)]; }

  void push_back(const T& value) {
    if (size_ == capacity_) grow(size_ + 1);
    (*this)[size_++] = value;
  }
  // Room for `count` values in one step (an open that knows how many rows it will load).
  void reserve(size_t count) {
    if (count > capacity_) grow(count);
  }
  void clear() {
    chunks_.clear();
    size_ = 0;
    capacity_ = 0;
  }

 private:
  void grow(size_t count) {
    if (capacity_ < kChunkSize) {  // Zero or one partial chunk: reallocate the first one.
      size_t first = std::max(kFirstChunkMin, capacity_ * 2);
      while (first < count && first < kChunkSize) first *= 2;
      PageArray<T> bigger(std::min(first, kChunkSize));
      if (size_ != 0) std::memcpy(bigger.data(), chunks_[0].data(), size_ * sizeof(T));
      chunks_.clear();
      chunks_.push_back(std::move(bigger));
      capacity_ = chunks_[0].size();
    }
    while (capacity_ < count) {
      chunks_.emplace_back(kChunkSize);
      capacity_ += kChunkSize;
    }
  }

  std::vector<PageArray<T>> chunks_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace batpak::util
