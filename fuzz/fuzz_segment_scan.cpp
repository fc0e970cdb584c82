// libFuzzer target: scanning an arbitrary segment file, as the newest segment and as a
// sealed one, must never crash or hang, and every delivered frame must lie inside the file.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "segment/scan.hpp"

namespace {

// A read-only File over an in-memory buffer.
class MemoryFile final : public batpak::File {
 public:
  explicit MemoryFile(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}
  batpak::Result<size_t> pread(uint64_t offset, std::span<uint8_t> data) override {
    if (offset >= bytes_.size()) return size_t{0};
    const size_t n = std::min<size_t>(data.size(), bytes_.size() - offset);
    std::memcpy(data.data(), bytes_.data() + offset, n);
    return n;
  }
  batpak::Status pwrite(uint64_t, std::span<const uint8_t>) override { return unsupported(); }
  batpak::Status sync() override { return {}; }
  batpak::Status sync_all() override { return {}; }
  batpak::Status truncate(uint64_t) override { return unsupported(); }
  batpak::Result<uint64_t> size() override { return bytes_.size(); }

 private:
  static batpak::Status unsupported() { return batpak::make_error(batpak::ErrorCode::kUnsupported, "read-only"); }
  std::vector<uint8_t> bytes_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  MemoryFile file(std::vector<uint8_t>(data, data + size));
  for (bool newest : {true, false}) {
    batpak::segment::ScanTarget target{&file, "fuzz.seg", 1, newest, size};
    auto scan = batpak::segment::scan_segment(target, [&](const batpak::segment::ScannedFrame& f) -> batpak::Status {
      if (f.offset + f.frame_bytes > size) std::abort();  // Invariant: frames lie in the file.
      return {};
    });
    if (scan && scan->data_end > size) std::abort();
  }
  return 0;
}
