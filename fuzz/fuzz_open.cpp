// libFuzzer target: opening a store whose segment files are arbitrary bytes (through an
// in-memory Fs), in every access mode, must never crash or hang, and must keep its promises:
//  - damage is a typed error: kCorruption names a file; kSalvage never refuses for damage;
//  - with consistent checksums and chains (fix-up level 2), a store that opens verifies clean;
//  - a read-write open leaves a state that later opens accept without a torn tail, with the
//    same events, and in which one more append (possibly rotating) is recovered too.
// Input: byte 0 selects options (bits 0-1: fix-up level, see fuzz_support.hpp; bits 2-3:
// access mode); the rest is split into segment files 1, 2, ... at every later occurrence of
// the segment magic "BATPAKSG" (at most 4 segments).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "batpak/batpak.hpp"
#include "fuzz_support.hpp"
#include "segment/segment_files.hpp"

namespace {

using batpak::fuzz::Bytes;

constexpr char kDir[] = "/mem";
constexpr size_t kSegmentsMax = 4;

class FixedClock final : public batpak::Clock {
 public:
  int64_t now_us() override { return 1'767'225'600'000'000; }
};

[[noreturn]] void fail() { std::abort(); }

std::vector<Bytes> split_segments(const uint8_t* data, size_t size) {
  const auto* magic = batpak::format::kSegmentMagic;
  constexpr size_t kMagicBytes = sizeof(batpak::format::kSegmentMagic);
  std::vector<size_t> starts{0};
  for (size_t i = 1; i + kMagicBytes <= size && starts.size() < kSegmentsMax; ++i) {
    if (std::memcmp(data + i, magic, kMagicBytes) == 0) starts.push_back(i);
  }
  std::vector<Bytes> out;
  for (size_t k = 0; k < starts.size(); ++k) {
    const size_t end = k + 1 < starts.size() ? starts[k + 1] : size;
    out.emplace_back(data + starts[k], data + end);
  }
  return out;
}

batpak::StoreOptions options_for(const std::shared_ptr<batpak::fuzz::MemoryFs>& fs,
                                 batpak::AccessMode access) {
  batpak::StoreOptions o;
  o.access = access;
  o.fs = fs;
  o.clock = std::make_shared<FixedClock>();
  o.preallocate_bytes = 256;
  o.segment_bytes_max = 4096;
  return o;
}

// Opens read-only and checks the result is clean and holds `events` events.
void expect_clean_reopen(const std::shared_ptr<batpak::fuzz::MemoryFs>& fs, uint64_t events) {
  auto again = batpak::Store::open(kDir, options_for(fs, batpak::AccessMode::kReadOnly));
  if (!again) fail();
  const batpak::OpenReport& report = (*again)->open_report();
  if (report.torn_tail || report.events_recovered != events) fail();
  auto verified = (*again)->verify();
  if (!verified) fail();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int level = data[0] & 3;
  const int mode = (data[0] >> 2) & 3;
  const batpak::AccessMode access = mode == 1   ? batpak::AccessMode::kReadOnly
                                    : mode == 2 ? batpak::AccessMode::kSalvage
                                                : batpak::AccessMode::kReadWrite;
  auto fs = std::make_shared<batpak::fuzz::MemoryFs>();
  batpak::fuzz::ChainFixer chain;
  std::vector<Bytes> segments = size > 1 ? split_segments(data + 1, size - 1) : std::vector<Bytes>{};
  for (size_t i = 0; i < segments.size(); ++i) {
    batpak::fuzz::fix_segment(segments[i], i + 1, level, chain);
    fs->put(batpak::segment::join_path(kDir, batpak::segment::segment_file_name(i + 1)),
            std::move(segments[i]));
  }

  auto store = batpak::Store::open(kDir, options_for(fs, access));
  if (!store) {
    const batpak::Error& e = store.error();
    if (e.code == batpak::ErrorCode::kCorruption &&
        (access == batpak::AccessMode::kSalvage || e.file.empty())) {
      fail();
    }
    return 0;
  }
  auto verified = (*store)->verify();
  if (!verified) fail();
  if (level == 2 && access != batpak::AccessMode::kSalvage && !verified->ok()) fail();
  const uint64_t events = (*store)->open_report().events_recovered;
  if ((*store)->stats().event_count != events) fail();
  if (access != batpak::AccessMode::kReadWrite) return 0;

  // Read-write: the recovered state must be a clean starting point for the next open...
  if (!(*store)->close()) fail();
  store->reset();
  expect_clean_reopen(fs, events);
  // ...and for the next append, which must itself be recovered.
  auto writable = batpak::Store::open(kDir, options_for(fs, batpak::AccessMode::kReadWrite));
  if (!writable) fail();
  if ((*writable)->open_report().torn_tail) fail();
  const std::vector<uint8_t> payload = {0x81, 0xa1, 'n', 0x01};
  auto receipt = (*writable)->append(*batpak::Coordinate::make("order:1", "shop"),
                                     batpak::EventKind{0x1001}, payload);
  if (!receipt || receipt->global_sequence != events + 1) fail();
  if (!(*writable)->close()) fail();
  writable->reset();
  expect_clean_reopen(fs, events + 1);
  return 0;
}
