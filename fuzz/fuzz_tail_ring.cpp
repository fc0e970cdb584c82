// libFuzzer target: the tail ring's decoder (docs/format.md, "Tail ring"). Arbitrary bytes
// must never crash it, and what it returns must keep its promises: every record's frames lie
// inside the input, within the record area, without overlapping another record's; each
// record holds at least one event and one frame byte; each record's first sequence follows
// on from the record before it. The first byte picks fixers that let the fuzzer past the
// checksums: bit 0 seals the file header (ring bytes set to the file's size), bit 1 seals
// every record the walk from the tail reaches.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

#include "util/bytes.hpp"
#include "util/hash.hpp"
#include "writer/tail_ring.hpp"

namespace {

using batpak::util::load_le;
using batpak::util::store_le;
using batpak::writer::kTailRecordHeaderBytes;
using batpak::writer::kTailRingHeaderBytes;

void require(bool ok) {
  if (!ok) std::abort();
}

void seal_header(std::vector<uint8_t>& file) {
  store_le<uint64_t>(file.data() + 16, file.size());
  store_le<uint64_t>(file.data() + 32, batpak::util::checksum64({file.data(), 32}));
}

// Walks from the header's tail as the decoder does, giving each record with the right magic
// its valid checksum, until a record it cannot step over.
void seal_records(std::vector<uint8_t>& file) {
  const uint64_t capacity = file.size() - kTailRingHeaderBytes;
  uint8_t* area = file.data() + kTailRingHeaderBytes;
  uint64_t phys = load_le<uint64_t>(file.data() + 64) % capacity;
  batpak::util::Checksum64Stream stream;
  for (uint64_t walked = 0; walked < capacity;) {
    uint64_t step = capacity - phys;
    if (step >= kTailRecordHeaderBytes) {
      uint8_t* h = area + phys;
      if (load_le<uint32_t>(h) != 0x52544B42) return;
      const uint32_t kind = load_le<uint32_t>(h + 4);
      const uint64_t frame_bytes = kind == 1 ? load_le<uint32_t>(h + 28) : 0;
      const uint64_t record_bytes = kTailRecordHeaderBytes + batpak::util::align8(frame_bytes);
      if (record_bytes > step) return;
      stream.reset(0);
      stream.update({h, 48});
      stream.update({h + kTailRecordHeaderBytes, frame_bytes});
      store_le<uint64_t>(h + 48, stream.digest());
      if (kind == 1) step = record_bytes;
    }
    walked += step;
    phys = (phys + step) % capacity;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::vector<uint8_t> file(data + 1, data + size);
  if (file.size() > kTailRingHeaderBytes) {
    if (data[0] & 1) seal_header(file);
    if (data[0] & 2) seal_records(file);
  }
  const std::span<const uint8_t> bytes(file);
  const std::vector<batpak::writer::TailRecord> records = batpak::writer::decode_tail_ring(bytes);
  if (records.empty()) return 0;
  require(bytes.size() > kTailRingHeaderBytes);
  const uint64_t capacity = bytes.size() - kTailRingHeaderBytes;
  const uint8_t* area = bytes.data() + kTailRingHeaderBytes;
  const uint8_t* end = bytes.data() + bytes.size();
  std::vector<std::pair<const uint8_t*, const uint8_t*>> spans;  // Each record's bytes.
  uint64_t total_bytes = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    require(r.event_count >= 1 && !r.frames.empty());
    require(r.frames.data() >= area + kTailRecordHeaderBytes && r.frames.data() <= end);
    require(r.frames.size() <= static_cast<size_t>(end - r.frames.data()));
    const uint8_t* record = r.frames.data() - kTailRecordHeaderBytes;
    const uint64_t record_bytes = kTailRecordHeaderBytes + batpak::util::align8(r.frames.size());
    require(record_bytes <= static_cast<uint64_t>(end - record));  // Padding too.
    require(load_le<uint32_t>(record) == 0x52544B42 && load_le<uint32_t>(record + 4) == 1);
    require(load_le<uint64_t>(record + 16) == r.first_sequence && load_le<uint32_t>(record + 24) == r.event_count);
    spans.emplace_back(record, record + record_bytes);
    total_bytes += record_bytes;
    if (i > 0) {
      const auto& previous = records[i - 1];
      require(previous.first_sequence + previous.event_count == r.first_sequence);
      require(r.first_sequence > previous.first_sequence);  // No wrap around 2^64.
    }
  }
  require(total_bytes <= capacity);  // At most one lap.
  std::sort(spans.begin(), spans.end());
  for (size_t i = 1; i < spans.size(); ++i) require(spans[i - 1].second <= spans[i].first);
  // Decoding is a pure function of the bytes.
  require(batpak::writer::decode_tail_ring(bytes).size() == records.size());
  return 0;
}
