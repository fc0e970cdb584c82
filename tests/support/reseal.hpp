// Rewrites checksums after a test changed bytes, so that it reaches the checks behind them:
// the XXH3-64 that ends a small file (cursor checkpoints, the fences file, the manifest,
// segment footers), and a segment frame's (a tamperer who recomputes it after an edit).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "batpak/env.hpp"
#include "format/format.hpp"
#include "segment/scan.hpp"

#include "util/bytes.hpp"
#include "util/hash.hpp"

namespace batpak::testing {

// REQUIRES: bytes.size() >= 8.
inline void reseal(std::vector<uint8_t>& bytes) {
  const size_t at = bytes.size() - 8;
  util::store_le<uint64_t>(bytes.data() + at, util::checksum64(std::span<const uint8_t>(bytes).first(at)));
}

struct FrameAt {
  std::string path;         // Its segment file.
  uint64_t offset = 0;      // Frame start in the segment file.
  uint64_t payload_at = 0;  // First payload byte in the file.
};

// Every frame of these segment files (the whole store, ascending), in commit order.
inline std::vector<FrameAt> scan_frames(const std::vector<std::string>& paths) {
  std::vector<FrameAt> frames;
  for (size_t i = 0; i < paths.size(); ++i) {
    auto file = posix_fs()->open(paths[i], Fs::OpenMode::kRead);
    EXPECT_TRUE(file.has_value()) << paths[i];
    if (!file) return {};
    auto size = (*file)->size();
    EXPECT_TRUE(size.has_value()) << paths[i];
    if (!size) return {};
    segment::ScanTarget target{file->get(), paths[i], i + 1, /*newest=*/i + 1 == paths.size(), *size};
    auto scan = segment::scan_segment(target, [&](const segment::ScannedFrame& f) -> Status {
      const uint64_t payload_at = f.offset + format::kFrameHeaderBytes + format::kRecordFixedBytes +
                                  f.record.entity.size() + f.record.scope.size();
      frames.push_back(FrameAt{paths[i], f.offset, payload_at});
      return {};
    });
    EXPECT_TRUE(scan.has_value()) << scan.error().to_string();
  }
  return frames;
}

// Flips one bit of the file, then recomputes the checksum of the frame that holds it.
inline void flip_and_reseal(const std::string& path, uint64_t frame_offset, uint64_t byte_at) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  std::vector<uint8_t> header(format::kFrameHeaderBytes);
  file.seekg(static_cast<std::streamoff>(frame_offset));
  file.read(reinterpret_cast<char*>(header.data()), static_cast<std::streamsize>(header.size()));
  const uint32_t record_bytes = util::load_le<uint32_t>(header.data() + format::kFrameRecordBytesAt);
  std::vector<uint8_t> frame(format::kFrameHeaderBytes + record_bytes);
  file.seekg(static_cast<std::streamoff>(frame_offset));
  file.read(reinterpret_cast<char*>(frame.data()), static_cast<std::streamsize>(frame.size()));
  frame[byte_at - frame_offset] ^= 0x01;
  const std::span<const uint8_t> sealed(frame.data() + format::kFrameMagicAt, frame.size() - format::kFrameMagicAt);
  util::store_le<uint64_t>(frame.data() + format::kFrameChecksumAt, util::checksum64(sealed));
  file.seekp(static_cast<std::streamoff>(frame_offset));
  file.write(reinterpret_cast<const char*>(frame.data()), static_cast<std::streamsize>(frame.size()));
  ASSERT_TRUE(file.good());
}

}  // namespace batpak::testing
