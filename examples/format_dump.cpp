// Writes one deterministic event (fixed clock, idempotency key) into a fresh store and
// hex-dumps its segment file up to the end of data: the worked example of docs/format.md.
//
//   format_dump DIR
#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

#include "batpak/batpak.hpp"

namespace {

class FixedClock final : public batpak::Clock {
 public:
  int64_t now_us() override { return 1'767'225'600'000'000; }  // 2026-01-01T00:00:00Z
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  batpak::StoreOptions options;
  options.clock = std::make_shared<FixedClock>();
  options.preallocate_bytes = 0;
  auto store = batpak::Store::open(argv[1], options);
  if (!store) return 1;
  batpak::AppendOptions append;
  append.idempotency_key = "example-1";
  const std::vector<uint8_t> payload = {0x81, 0xa1, 'n', 0x01};  // MessagePack {"n": 1}
  auto receipt = (*store)->append(*batpak::Coordinate::make("order:1", "shop"),
                                  batpak::EventKind{0x1001}, payload, append);
  if (!receipt || !(*store)->close()) return 1;
  std::ifstream in(std::string(argv[1]) + "/000000000001.seg", std::ios::binary);
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), {});
  for (size_t i = 0; i < bytes.size(); i += 16) {
    std::printf("%04zx:", i);
    for (size_t j = i; j < i + 16 && j < bytes.size(); ++j) std::printf(" %02x", bytes[j]);
    std::printf("\n");
  }
  std::printf("event_hash %s\n", receipt->event_hash.to_hex().c_str());
  return 0;
}
