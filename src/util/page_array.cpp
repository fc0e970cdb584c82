#include "util/page_array.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

#include "util/sanitizers.hpp"

namespace batpak::util {
namespace {

// Under AddressSanitizer every array is calloc'ed, so that a read past its end hits a redzone
// instead of a neighbouring mapping.
constexpr bool kMapLargeArrays = !kAddressSanitizer;

bool mapped(size_t bytes) { return kMapLargeArrays && bytes >= kPageArrayMappedBytesMin; }

}  // namespace

void* allocate_zeroed_pages(size_t bytes) {
  if (!mapped(bytes)) {
    void* data = std::calloc(1, bytes);
    if (data == nullptr) throw std::bad_alloc();
    return data;
  }
  void* data = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (data == MAP_FAILED) throw std::bad_alloc();
  // Both are advice: a kernel without transparent huge pages, or older than 5.14 (no
  // MADV_POPULATE_WRITE), refuses them and the pages fault in one by one as before.
  ::madvise(data, bytes, MADV_HUGEPAGE);
  ::madvise(data, bytes, MADV_POPULATE_WRITE);
  return data;
}

void free_zeroed_pages(void* data, size_t bytes) {
  if (!mapped(bytes)) {
    std::free(data);
  } else {
    ::munmap(data, bytes);
  }
}

}  // namespace batpak::util
