// An event loop that follows a store: poll(2) on Store::visibility_fd(), then drain a Cursor.
// Another thread plays the application appending orders. Works the same with epoll, or with
// the fd registered in any loop (libuv, asio, Qt) as "readable".
//
// Usage: example_event_loop [DIR]   (default: a new directory under /tmp)
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "batpak/batpak.hpp"

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "";
  std::string scratch;  // Removed at the end when we made it.
  if (dir.empty()) {
    char tmpl[] = "/tmp/batpak-event-loop-XXXXXX";
    if (!::mkdtemp(tmpl)) return 1;
    scratch = tmpl;
    dir = scratch + "/store";
  }
  auto store = batpak::Store::open(dir);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", store.error().to_string().c_str());
    return 1;
  }
  auto fd = (*store)->visibility_fd();
  if (!fd) return 1;
  constexpr int kOrders = 5;
  std::thread app([&] {
    for (int i = 0; i < kOrders; ++i) {
      const std::string payload = "order " + std::to_string(i);
      auto coordinate = batpak::Coordinate::make("order:" + std::to_string(i), "shop").value();
      if (!(*store)->append(coordinate, batpak::EventKind(0x1001),
                            {reinterpret_cast<const uint8_t*>(payload.data()), payload.size()})) {
        std::_Exit(2);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  batpak::Cursor cursor(**store, batpak::Region::entity("order"));
  int seen = 0;
  while (seen < kOrders) {
    pollfd p{*fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return 3;  // Nothing within 5 s: give up.
    uint64_t wakeups = 0;
    if (::read(*fd, &wakeups, sizeof wakeups) < 0) return 4;  // Reset the fd before draining.
    for (auto batch = cursor.poll_batch(64); batch && !batch->empty(); batch = cursor.poll_batch(64)) {
      for (const batpak::Event& e : *batch) {
        std::printf("seq %llu  %s  %.*s\n", static_cast<unsigned long long>(e.header.global_sequence),
                    std::string(e.coordinate.entity()).c_str(), static_cast<int>(e.payload.size()),
                    reinterpret_cast<const char*>(e.payload.data()));
        ++seen;
      }
    }
  }
  app.join();
  std::printf("followed %d events through the visibility fd\n", seen);
  const bool closed = (*store)->close().has_value();
  if (!scratch.empty()) std::filesystem::remove_all(scratch);
  return closed ? 0 : 5;
}
