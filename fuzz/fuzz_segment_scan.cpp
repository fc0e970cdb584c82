// libFuzzer target: scanning an arbitrary segment file, as the newest segment and as a sealed
// one, must never crash, hang or read out of bounds, and its answers must be consistent:
//  - committed frames are contiguous from the header to data_end, inside the file;
//  - a torn tail starts at data_end and lies inside the file; after cutting it off, a rescan
//    finds the same frames and no torn tail (the cut stays safe on every later open);
//  - a file that scans clean as a sealed segment scans identically as the newest one.
// Input: byte 0 selects options (bits 0-1: checksum fix-up level, see fuzz_support.hpp;
// bits 2-7: where a sealed scan's strict end falls); the rest is the segment file.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "fuzz_support.hpp"
#include "index/chain_check.hpp"
#include "segment/scan.hpp"

namespace {

using batpak::fuzz::Bytes;
using batpak::fuzz::MemoryFile;

struct Outcome {
  bool ok = false;
  uint64_t data_end = 0;
  bool torn = false;
  uint64_t torn_offset = 0;
  uint64_t torn_end = 0;
  std::vector<uint64_t> offsets;  // Of the delivered frames, in order.
};

[[noreturn]] void fail() { std::abort(); }

Outcome scan(const Bytes& bytes, bool newest, uint64_t strict_end) {
  auto shared = std::make_shared<Bytes>(bytes);
  MemoryFile file(shared);
  batpak::index::ChainChecker checker;
  Outcome out;
  uint64_t expected = batpak::format::kSegmentHeaderBytes;
  batpak::segment::ScanTarget target{&file, "fuzz.seg", 1, newest, strict_end};
  auto result = batpak::segment::scan_segment(target, [&](const batpak::segment::ScannedFrame& f) -> batpak::Status {
    if (f.offset != expected) fail();                     // Frames are contiguous.
    if (f.offset + f.frame_bytes > bytes.size()) fail();  // And inside the file.
    expected += f.frame_bytes;
    out.offsets.push_back(f.offset);
    (void)checker.check_and_advance(f.record);  // Exercises the event hash on fuzzed records.
    return {};
  });
  if (!result) {
    if (result.error().code == batpak::ErrorCode::kCorruption && result.error().file != "fuzz.seg") fail();
    return out;
  }
  out.ok = true;
  out.data_end = result->data_end;
  if (out.data_end > bytes.size()) fail();
  if (out.data_end != 0 && out.data_end != expected) fail();  // data_end is the last frame's end.
  if (!newest && result->torn) fail();
  if (result->torn) {
    out.torn = true;
    out.torn_offset = result->torn->offset;
    out.torn_end = result->torn->end;
    if (out.torn_offset != out.data_end || out.torn_end <= out.torn_offset ||
        out.torn_end > bytes.size()) {
      fail();
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t options = data[0];
  Bytes bytes(data + 1, data + size);
  batpak::fuzz::ChainFixer chain;
  batpak::fuzz::fix_segment(bytes, 1, options & 3, chain);

  const Outcome newest = scan(bytes, true, bytes.size());
  if (newest.ok && newest.torn) {
    // What open does in kReadWrite mode: cut the tail, then every later scan is clean.
    Bytes cut(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(newest.torn_offset));
    const Outcome again = scan(cut, true, cut.size());
    if (!again.ok || again.torn || again.data_end != newest.data_end ||
        again.offsets != newest.offsets) {
      fail();
    }
  }

  const Outcome sealed = scan(bytes, false, bytes.size());
  if (sealed.ok) {
    if (sealed.data_end != bytes.size()) fail();
    if (!newest.ok || newest.torn || newest.data_end != sealed.data_end ||
        newest.offsets != sealed.offsets) {
      fail();
    }
  }
  // A live segment is scanned up to its visible end, which may lie before the file's end.
  const uint64_t strict_end = bytes.size() * (options >> 2) / 63;
  (void)scan(bytes, false, strict_end);
  return 0;
}
