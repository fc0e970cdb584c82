// Writes seed inputs for the fuzzers: valid frames, records and a small segment.
//   make_seeds OUT_DIR
#include <fstream>
#include <string>
#include <vector>

#include "format/format.hpp"
#include "format/record.hpp"

static void write(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                              static_cast<std::streamsize>(bytes.size()));
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::string out = argv[1];
  batpak::EventHeader h;
  h.global_sequence = 1;
  h.clock = 1;
  h.kind = batpak::EventKind{0x1001};
  const std::vector<uint8_t> payload = {0x81, 0xa1, 'n', 0x01};
  std::vector<uint8_t> segment = batpak::format::encode_segment_header(1, 0);
  std::vector<uint8_t> frame;
  batpak::format::encode_frame(h, {1, 0, 64}, "order:1", "shop", payload, frame);
  segment.insert(segment.end(), frame.begin(), frame.end());
  for (uint32_t i = 0; i < 2; ++i) {  // A two-frame batch.
    h.global_sequence++;
    h.clock++;
    batpak::format::encode_frame(h, {2, i, 64}, "order:1", "shop", payload, segment);
  }
  write(out + "/segment.seg", segment);
  write(out + "/frame.bin", frame);
  write(out + "/record.bin", std::vector<uint8_t>(frame.begin() + batpak::format::kFrameHeaderBytes, frame.end()));
  return 0;
}
