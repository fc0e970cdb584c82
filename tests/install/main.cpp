// Appends one event through an installed batpak and reads it back. Exit 0 on success.
#include <batpak/batpak.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  auto store = batpak::Store::open(argv[1]);
  if (!store) return 1;
  auto coordinate = batpak::Coordinate::make("install", "check");
  auto receipt = (*store)->append(*coordinate, batpak::EventKind{0x1001},
                                  batpak::json_to_payload({{"ok", true}}));
  if (!receipt) return 1;
  auto event = (*store)->get(receipt->event_id);
  if (!event || event->header.event_hash != receipt->event_hash) return 1;
  std::printf("install check: event %s read back\n", receipt->event_id.to_hex().c_str());
  return (*store)->close() ? 0 : 1;
}
