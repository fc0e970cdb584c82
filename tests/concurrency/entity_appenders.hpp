// Appender threads for the concurrency tests: thread n appends `events` events to entity
// "e:<n>" (scope "s", kind 1:001), the i-th with the one-byte payload i % 256.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "batpak/batpak.hpp"

namespace batpak::testing {

struct EntityAppenders {
  std::atomic<int> left{0};          // Threads still appending.
  std::atomic<uint64_t> committed{0};  // Appends that returned a receipt.
  std::atomic<int> failures{0};      // Appends that returned an error.
  std::vector<std::thread> threads;

  // Starts `appenders` threads on `store`, which must outlive join().
  void start(Store& store, int appenders, int events) {
    left.store(appenders);
    for (int a = 0; a < appenders; ++a) {
      threads.emplace_back([this, &store, a, events] {
        const Coordinate coordinate = Coordinate::make("e:" + std::to_string(a), "s").value();
        for (int i = 0; i < events; ++i) {
          const std::vector<uint8_t> payload{static_cast<uint8_t>(i)};
          if (store.append(coordinate, EventKind(0x1001), payload)) {
            committed.fetch_add(1);
          } else {
            failures.fetch_add(1);
          }
        }
        left.fetch_sub(1);
      });
    }
  }
  void join() {
    for (std::thread& t : threads) t.join();
    threads.clear();
  }
  ~EntityAppenders() { join(); }
};

}  // namespace batpak::testing
