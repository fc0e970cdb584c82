// libFuzzer target: the CLI's JSON Lines input (batpak append --stdin, batpak import).
// Arbitrary text must never crash the parser or the validators: every line either becomes
// a validated request or is refused with an error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "requests.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto json = batpak::cli::parse_json(text, "fuzz input");
  if (!json) return 0;
  (void)batpak::cli::parse_append_line(*json);
  (void)batpak::cli::parse_import_line(*json);
  return 0;
}
