#include "index/byte_reader.hpp"

#include <algorithm>

namespace batpak::index {

bool ByteReader::refill(size_t len) {
  if (file_ == nullptr) return false;
  const size_t kept = view_.size() - at_;
  // The buffer only grows (view_ may point into it), and never beyond the unread bytes: a
  // small checkpoint gets a small buffer, not a zero-filled window.
  const size_t window = std::max(len, static_cast<size_t>(std::min<uint64_t>(kWindowBytes, left_)));
  if (buffer_.size() < window) {
    util::PageArray<uint8_t> bigger(window);
    if (kept != 0) std::memcpy(bigger.data(), view_.data() + at_, kept);
    buffer_ = std::move(bigger);
  } else if (kept != 0) {
    std::memmove(buffer_.data(), view_.data() + at_, kept);
  }
  const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer_.size() - kept, left_ - kept));
  const std::span<uint8_t> fresh(buffer_.data() + kept, want);
  auto got = file_->pread(file_offset_, fresh);
  if (!got || *got != want) {
    read_error_ = got ? Error{ErrorCode::kCorruption, "a file got shorter while it was read", {}, 0, {}} : got.error();
    return false;
  }
  checksum_.update(fresh);
  file_offset_ += want;
  view_ = std::span<const uint8_t>(buffer_.data(), kept + want);
  at_ = 0;
  return true;
}

Result<uint64_t> read_trailing_checksum(File& file, uint64_t size) {
  std::array<uint8_t, 8> trailer{};
  auto got = file.pread(size - trailer.size(), trailer);
  if (!got) return tl::unexpected(got.error());
  if (*got != trailer.size()) return make_error(ErrorCode::kCorruption, "a file got shorter while it was read");
  return util::load_le<uint64_t>(trailer.data());
}

}  // namespace batpak::index
