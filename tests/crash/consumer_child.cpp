// The process the worker kill test kills. It runs a CursorWorker with a durable checkpoint
// over every event of the store in DIR. For each batch it reports the sequences it handled
// on stdout ("H seq1 seq2 ...", one write(2) below PIPE_BUF, so a line is whole or absent),
// sleeps a little to widen the window between handling and commit, and continues.
//
// Usage: batpak_consumer_child DIR BATCH_SIZE [STOP_AT]
//   STOP_AT: stop (exit 0) once the event with this global sequence is handled; without it
//   the child runs until killed.
// Exit codes: 0 when the worker stopped, 3 bad usage, 4 open failed, 5 the worker failed.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "batpak/batpak.hpp"

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: %s DIR BATCH_SIZE [STOP_AT]\n", argv[0]);
    return 3;
  }
  const int batch_size = std::atoi(argv[2]);
  const uint64_t stop_at = argc == 4 ? std::strtoull(argv[3], nullptr, 10) : UINT64_MAX;
  if (batch_size < 1 || batch_size > 32) return 3;
  auto store = batpak::Store::open(argv[1]);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", store.error().to_string().c_str());
    return 4;
  }
  batpak::CursorWorkerConfig config;
  config.batch_size = static_cast<size_t>(batch_size);
  config.checkpoint_id = "kill-test";
  batpak::CursorWorker worker(**store, batpak::Region::all(), config,
                              [](std::span<const batpak::Event> batch, const batpak::AtLeastOnce*) {
                                std::string line = "H";
                                for (const auto& e : batch) line += " " + std::to_string(e.header.global_sequence);
                                line += "\n";
                                if (::write(STDOUT_FILENO, line.data(), line.size()) !=
                                    static_cast<ssize_t>(line.size())) {
                                  std::_Exit(6);
                                }
                                std::this_thread::sleep_for(std::chrono::milliseconds(2));
                                return batpak::WorkerAction::kContinue;
                              });
  // Also covers a run that resumes with nothing left to do.
  while (worker.running() && worker.committed_position() < stop_at) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  worker.request_stop();
  auto outcome = worker.join();
  if (!outcome) {
    std::fprintf(stderr, "worker: %s\n", outcome.error().to_string().c_str());
    return 5;
  }
  return 0;
}
