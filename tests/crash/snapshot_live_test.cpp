// Snapshots (AccessMode::kReadSnapshot) of a store that another process is appending to,
// with four threads, segment rotations and background index checkpoints (batpak_crash_child).
// Invariants proved here: every snapshot opens (no lock, no false damage from writes in
// flight), verifies, and holds every event whose append returned before the snapshot was
// opened; and each snapshot is a prefix of the history the writer leaves behind.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "batpak/batpak.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

// The writer process: runs until killed; collects the event ids it reports as acknowledged.
class LiveWriter {
 public:
  explicit LiveWriter(const std::string& dir) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::execl(BATPAK_CRASH_CHILD, BATPAK_CRASH_CHILD, dir.c_str(), "single", "4", "sync", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
  }
  ~LiveWriter() { stop(); }
  bool started() const { return pid_ > 0; }

  // Reads what the writer reported so far: every complete "A <id>" line.
  const std::vector<EventId>& acknowledged() {
    char buf[4096];
    for (ssize_t n; (n = ::read(out_, buf, sizeof(buf))) > 0;) pending_.append(buf, static_cast<size_t>(n));
    for (size_t end; (end = pending_.find('\n')) != std::string::npos; pending_.erase(0, end + 1)) {
      std::istringstream line(pending_.substr(0, end));
      std::string tag, hex;
      line >> tag >> hex;
      auto id = EventId::parse(hex);
      EXPECT_TRUE(tag == "A" && id.has_value()) << pending_.substr(0, end);
      if (id) acknowledged_.push_back(*id);
    }
    return acknowledged_;
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    ::close(out_);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string pending_;
  std::vector<EventId> acknowledged_;
};

struct SnapshotEnd {
  uint64_t last_sequence = 0;
  Hash32 last_event_hash;
};

TEST(SnapshotLive, EverySnapshotOfAStoreAnotherProcessAppendsToOpensVerifiesAndHoldsEveryReturnedAppend) {
  TempDir tmp;
  const std::string dir = tmp.sub("store");
  LiveWriter writer(dir);
  ASSERT_TRUE(writer.started());
  const auto wait_until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (writer.acknowledged().size() < 100 && std::chrono::steady_clock::now() < wait_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_GE(writer.acknowledged().size(), 100u) << "the writer process did not start appending";

  StoreOptions snapshot;
  snapshot.access = AccessMode::kReadSnapshot;
  std::vector<SnapshotEnd> ends;
  const auto stop_at = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (ends.size() < 10 || std::chrono::steady_clock::now() < stop_at) {
    const std::vector<EventId> acknowledged = writer.acknowledged();  // Before the open begins.
    auto store = Store::open(dir, snapshot);
    ASSERT_TRUE(store) << "snapshot " << ends.size() << ": " << store.error().to_string();
    for (const EventId& id : acknowledged) {
      auto event = (*store)->get(id);
      ASSERT_TRUE(event) << "snapshot " << ends.size() << " lacks acknowledged event " << id.to_hex() << ": "
                         << event.error().to_string();
    }
    auto report = (*store)->verify();
    ASSERT_TRUE(report) << report.error().to_string();
    ASSERT_TRUE(report->ok()) << "snapshot " << ends.size() << " does not verify: " << report->damage->reason << " at " << report->damage->file << "@" << report->damage->offset;
    const uint64_t last = (*store)->stats().last_global_sequence;
    auto events = (*store)->read_sequences(std::vector<uint64_t>{last});
    ASSERT_TRUE(events && events->size() == 1);
    ends.push_back({last, events->front().header.event_hash});
  }
  writer.stop();

  auto after = Store::open(dir);  // Recovers what the kill left, as any next open would.
  ASSERT_TRUE(after) << after.error().to_string();
  for (const SnapshotEnd& end : ends) {
    auto events = (*after)->read_sequences(std::vector<uint64_t>{end.last_sequence});
    ASSERT_TRUE(events && events->size() == 1) << "sequence " << end.last_sequence << " is gone";
    EXPECT_EQ(events->front().header.event_hash, end.last_event_hash)
        << "a snapshot ended on an event the writer's history does not hold";
  }
  EXPECT_GE(ends.size(), 10u);
}

}  // namespace
}  // namespace batpak::testing
