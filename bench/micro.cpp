// Micro benchmarks of the per-event hot-path pieces (DESIGN.md §5 budgets): hashing,
// frame encoding and decoding, the frame checksum, the index insert and a receipt signature;
// and, on a store in a temporary directory, a kBuffered append against the idempotency-key
// lookup a reactor makes for each reaction (Store::receipt_for_key, a miss).
//
//   batpak_micro [--benchmark_min_time=0.2] [--benchmark_filter=Blake3]
//
// These call internal headers (src/ is a private include directory of this target only).
#include <benchmark/benchmark.h>

#include <stdlib.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "batpak/batpak.hpp"

#include "format/format.hpp"
#include "format/record.hpp"
#include "index/index.hpp"
#include "store/signer.hpp"
#include "util/hash.hpp"

namespace {

using namespace batpak;

std::vector<uint8_t> bytes_of(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 31 + 7);
  return v;
}

// A header as the writer builds it for a 200-byte payload.
EventHeader sample_header(std::span<const uint8_t> payload) {
  EventHeader h;
  for (size_t i = 0; i < 16; ++i) h.event_id.bytes[i] = static_cast<uint8_t>(i + 1);
  h.correlation_id = h.event_id;
  h.global_sequence = 123456;
  h.clock = 42;
  h.wall_ms = 1'790'000'000'000;
  h.timestamp_us = 1'790'000'000'000'000;
  h.kind = EventKind{0x1001};
  h.content_hash = util::blake3(payload);
  h.prev_hash = util::blake3(h.content_hash.bytes);
  h.event_hash = format::compute_event_hash(h, "bench:0", "bench");
  return h;
}

void BM_Blake3(benchmark::State& state) {
  const auto data = bytes_of(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    Hash32 h = util::blake3(data);
    benchmark::DoNotOptimize(h);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Blake3)->Arg(64)->Arg(200)->Arg(256)->Arg(1024)->Arg(4096);

void BM_Xxh3Checksum(benchmark::State& state) {
  const auto data = bytes_of(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    uint64_t sum = util::checksum64(data);
    benchmark::DoNotOptimize(sum);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}
// 432 = the checksummed span of a frame with a 200-byte payload and a short coordinate.
BENCHMARK(BM_Xxh3Checksum)->Arg(256)->Arg(432)->Arg(4096);

void BM_ComputeEventHash(benchmark::State& state) {
  const auto payload = bytes_of(200);
  const EventHeader h = sample_header(payload);
  for (auto _ : state) {
    Hash32 hash = format::compute_event_hash(h, "bench:0", "bench");
    benchmark::DoNotOptimize(hash);
  }
}
BENCHMARK(BM_ComputeEventHash);

// Frame encoding into a reused buffer, as the writer does within a group (includes the
// frame's XXH3 checksum).
void BM_EncodeFrame(benchmark::State& state) {
  const auto payload = bytes_of(static_cast<size_t>(state.range(0)));
  const EventHeader h = sample_header(payload);
  std::vector<uint8_t> out;
  out.reserve(format::frame_bytes(7, 5, payload.size()));
  for (auto _ : state) {
    out.clear();
    format::encode_frame(h, format::FrameContext{}, "bench:0", "bench", payload, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_EncodeFrame)->Arg(200);

void BM_FrameChecksumOk(benchmark::State& state) {
  const auto payload = bytes_of(200);
  std::vector<uint8_t> frame;
  format::encode_frame(sample_header(payload), format::FrameContext{}, "bench:0", "bench", payload,
                       frame);
  const size_t used = format::kFrameHeaderBytes + format::frame_record_bytes(frame);
  const std::span<const uint8_t> view(frame.data(), used);
  for (auto _ : state) {
    bool ok = format::frame_checksum_ok(view);
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_FrameChecksumOk);

void BM_DecodeRecord(benchmark::State& state) {
  const auto payload = bytes_of(200);
  std::vector<uint8_t> frame;
  format::encode_frame(sample_header(payload), format::FrameContext{}, "bench:0", "bench", payload,
                       frame);
  const std::span<const uint8_t> record(frame.data() + format::kFrameHeaderBytes,
                                        format::frame_record_bytes(frame));
  for (auto _ : state) {
    auto view = format::decode_record(record);
    benchmark::DoNotOptimize(view);
  }
}
BENCHMARK(BM_DecodeRecord);

// What open does per event: checksum, decode, recompute the event hash.
void BM_ScanOneFrame(benchmark::State& state) {
  const auto payload = bytes_of(200);
  std::vector<uint8_t> frame;
  format::encode_frame(sample_header(payload), format::FrameContext{}, "bench:0", "bench", payload,
                       frame);
  const uint32_t record_bytes = format::frame_record_bytes(frame);
  const std::span<const uint8_t> checked(frame.data(), format::kFrameHeaderBytes + record_bytes);
  for (auto _ : state) {
    bool ok = format::frame_checksum_ok(checked);
    auto view = format::decode_record(checked.subspan(format::kFrameHeaderBytes));
    Hash32 hash = format::compute_event_hash(view->header, view->entity, view->scope);
    ok = ok && hash == view->header.event_hash;
    benchmark::DoNotOptimize(ok);
  }
}
BENCHMARK(BM_ScanOneFrame);

// Index insert of fresh events over 1,000 entities (one scope); the index grows during the
// run, as it does at open.
void BM_IndexAdd(benchmark::State& state) {
  std::vector<std::string> entities;
  for (int i = 0; i < 1000; ++i) entities.push_back("entity:" + std::to_string(i));
  index::Index index;
  std::vector<uint32_t> clocks(entities.size(), 0);
  uint64_t n = 0;
  for (auto _ : state) {
    const size_t e = n % entities.size();
    index::Entry entry;
    for (size_t i = 0; i < 8; ++i) entry.event_id.bytes[i] = static_cast<uint8_t>(n >> (8 * i));
    entry.event_id.bytes[8] = 0x80;
    entry.clock = ++clocks[e];
    entry.offset = n * 448;
    entry.frame_bytes = 448;
    entry.kind = EventKind{0x1001};
    index.add(entities[e], "bench", entry, Hash32{});
    ++n;
  }
}
BENCHMARK(BM_IndexAdd);

void BM_Ed25519Sign(benchmark::State& state) {
  std::array<uint8_t, 32> seed{};
  seed[0] = 1;
  auto signer = Signer::from_seed(seed);
  if (!signer) {
    state.SkipWithError("libsodium unavailable");
    return;
  }
  Hash32 hash = util::blake3(bytes_of(32));
  for (auto _ : state) {
    auto signature = signer->sign(hash);
    benchmark::DoNotOptimize(signature);
  }
}
BENCHMARK(BM_Ed25519Sign);

// A kBuffered store of 10,000 events in a fresh temporary directory, removed afterwards.
class TempStore {
 public:
  TempStore() {
    char pattern[] = "/tmp/batpak-micro-XXXXXX";
    if (mkdtemp(pattern) == nullptr) return;
    dir_ = pattern;
    StoreOptions options;
    options.durability = Durability::kBuffered;
    auto opened = Store::open(dir_ + "/store", options);
    if (!opened) return;
    store_ = std::move(*opened);
    for (int i = 0; i < 10'000; ++i) {
      if (!append(i)) return;
    }
  }
  ~TempStore() {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  Store* store() const { return store_.get(); }
  bool append(uint64_t n) {
    const auto coordinate = Coordinate::make("bench:" + std::to_string(n % 1000), "bench");
    return coordinate && store_->append(*coordinate, EventKind{0x1001}, payload_).has_value();
  }

 private:
  std::string dir_;
  std::unique_ptr<Store> store_;
  std::vector<uint8_t> payload_ = bytes_of(200);
};

void BM_StoreAppendBuffered(benchmark::State& state) {
  TempStore temp;
  if (!temp.store()) return state.SkipWithError("could not open a store under /tmp");
  uint64_t n = 0;
  for (auto _ : state) {
    if (!temp.append(n++)) return state.SkipWithError("append failed");
  }
}
BENCHMARK(BM_StoreAppendBuffered);

void BM_StoreReceiptForKeyMiss(benchmark::State& state) {
  TempStore temp;
  if (!temp.store()) return state.SkipWithError("could not open a store under /tmp");
  std::vector<std::string> keys;
  for (int i = 0; i < 1024; ++i) keys.push_back("batpak.reaction:" + std::string(32, 'a') + ":" + std::to_string(i));
  size_t n = 0;
  for (auto _ : state) {
    auto found = temp.store()->receipt_for_key(keys[n++ % keys.size()]);
    if (!found || *found) return state.SkipWithError("expected a miss");
  }
}
BENCHMARK(BM_StoreReceiptForKeyMiss);

}  // namespace

BENCHMARK_MAIN();
