// The process the SIGKILL crash test kills. It opens the store in DIR with Durability::kSync
// (or kBuffered, whose appends return once written to the OS, so they too must survive the
// kill of the process) and appends from several threads until killed. Only after an append (or a batch) has
// returned successfully does it report the acknowledged event ids on stdout (a pipe to the
// parent), one line per append with a single write(2) call of less than PIPE_BUF bytes, so
// a line is either wholly in the pipe or absent when the kill lands.
//
// Usage: batpak_crash_child DIR single|batch THREADS [sync|buffered]
//   single: each line is "A <event id hex>"
//   batch:  each line is "B <token> <id1> <id2> ...": one atomic append_batch whose items
//           carry the payload "<token>/<index>/<count>" so the parent can find partial
//           batches of unacknowledged appends too.
// Exit codes: 0 never (runs until killed, or until a bounded number of appends), 3 bad
// usage, 4 open failed, 5 an append failed.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "batpak/batpak.hpp"

namespace {

void write_line(const std::string& line) {
  // One write: lines are far below PIPE_BUF, so they are never interleaved or split.
  const ssize_t n = ::write(STDOUT_FILENO, line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size())) std::_Exit(6);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: %s DIR single|batch THREADS [sync|buffered]\n", argv[0]);
    return 3;
  }
  const std::string dir = argv[1];
  const std::string mode = argv[2];
  const int threads = std::atoi(argv[3]);
  const std::string durability = argc == 5 ? argv[4] : "sync";
  if ((mode != "single" && mode != "batch") || threads < 1 || threads > 64) return 3;
  if (durability != "sync" && durability != "buffered") return 3;

  batpak::StoreOptions options;
  options.durability = durability == "sync" ? batpak::Durability::kSync : batpak::Durability::kBuffered;
  options.segment_bytes_max = 16 * 1024;  // Rotations happen while the kill may land.
  options.preallocate_bytes = 16 * 1024;
  // Background index checkpoints are written (and may be cut short) while the kill lands.
  options.index_checkpoint_every_events = 200;
  auto store = batpak::Store::open(dir, options);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", store.error().to_string().c_str());
    return 4;
  }
  const uint64_t pid = static_cast<uint64_t>(::getpid());
  std::atomic<bool> failed{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      // Threads 0 and 1 share an entity, the others have their own.
      const std::string entity = "acct:" + std::to_string(t < 2 ? 0 : t);
      auto coordinate = batpak::Coordinate::make(entity, "crash");
      if (!coordinate) std::_Exit(3);
      const batpak::EventKind kind{0x1001};
      for (uint64_t i = 0; i < 200000 && !failed.load(); ++i) {
        const std::string token = std::to_string(pid) + "-" + std::to_string(t) + "-" + std::to_string(i);
        if (mode == "single") {
          const std::string payload = "single/" + token + "/" + std::string(40 + (i % 60), 'x');
          auto r = (*store)->append(*coordinate, kind,
                                    {reinterpret_cast<const uint8_t*>(payload.data()), payload.size()});
          if (!r) {
            std::fprintf(stderr, "append: %s\n", r.error().to_string().c_str());
            failed = true;
            return;
          }
          write_line("A " + r->event_id.to_hex() + "\n");
        } else {
          const size_t count = 2 + i % 3;
          std::vector<batpak::BatchItem> items;
          for (size_t k = 0; k < count; ++k) {
            // Items alternate between the thread's entity and a shared one.
            auto c = batpak::Coordinate::make(k % 2 ? "shared" : entity, "crash");
            if (!c) std::_Exit(3);
            const std::string payload = token + "/" + std::to_string(k) + "/" + std::to_string(count) +
                                        "/" + std::string(30 + (i % 50), 'y');
            items.push_back(batpak::BatchItem{*c, kind, {payload.begin(), payload.end()}, {}});
          }
          auto r = (*store)->append_batch(items);
          if (!r) {
            std::fprintf(stderr, "append_batch: %s\n", r.error().to_string().c_str());
            failed = true;
            return;
          }
          std::string line = "B " + token;
          for (const auto& receipt : *r) line += " " + receipt.event_id.to_hex();
          write_line(line + "\n");
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  return failed ? 5 : 0;
}
