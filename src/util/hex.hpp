// Lowercase hex encoding. Internal.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace batpak::util {

std::string to_hex(std::span<const uint8_t> bytes);
// Decodes hex of any case into exactly `out.size()` bytes; false on any malformed input.
bool from_hex(std::string_view hex, std::span<uint8_t> out);

}  // namespace batpak::util
