// Crash-state enumeration over SimFs (tests/support/sim_fs.hpp). A workload of single
// appends, batches, segment rotations, a cursor checkpoint, a committed and a cancelled
// visibility fence and close runs with a power cut at every mutating file-system call in
// turn; each cut is expanded into the disks it could leave (unsynced changes of each file
// kept in order up to every prefix, the next write torn, one write lost while later ones
// reached the disk (reordered), names as durable or as issued).
// Each disk is reopened and checked against the workload's reference model:
//   - open never refuses (a plain power cut is not corruption);
//   - the visible events are, in order, a prefix of the units that were to become visible,
//     each unit (an event, a batch, a committed fence) whole: nothing invented, reordered,
//     skipped or partial, and nothing of a cancelled fence;
//   - every acknowledged unit is in that prefix (kSync: acknowledged means durable);
//   - verify() finds no damage; a cursor checkpoint loads, at a position the workload
//     committed (the acknowledged one or a later attempt); the store accepts an append.
// Prints one line of figures. BATPAK_CRASH_STATES_DEEP=1 runs a six times longer workload
// on 2.5 times the layouts, on every core (over 200,000 states; tens of minutes).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "batpak/batpak.hpp"
#include "support/sim_fs.hpp"

namespace batpak::testing {
namespace {

const EventKind kKind(0x1001);
constexpr char kDir[] = "/sim/store";

bool deep() { return std::getenv("BATPAK_CRASH_STATES_DEEP") != nullptr; }

// What the workload tried, in order. Units of kind kCancelled must never be visible.
struct Unit {
  enum Kind { kVisible, kCancelled } kind = kVisible;
  std::vector<std::string> payloads;
  bool acked = false;
  bool fence = false;  // Fence::commit() returns once its events are durable, in every mode.
};

struct Model {
  std::vector<Unit> units;
  size_t durable_units = 0;  // The units before the last successful sync() (all of them durable).
  std::vector<uint64_t> checkpoint_attempts;  // Positions commit() was called with, in order.
  std::optional<uint64_t> checkpoint_acked;
};

Coordinate at(int i) { return Coordinate::make("acct:" + std::to_string(i % 3), "s").value(); }

std::vector<uint8_t> bytes_of(const std::string& s, size_t padding) {
  std::vector<uint8_t> out(s.begin(), s.end());
  out.push_back('|');
  out.resize(out.size() + padding, 'p');
  return out;
}

std::string payload_name(const Event& e) {
  const std::string text(e.payload.begin(), e.payload.end());
  return text.substr(0, text.find('|'));
}

struct Variant {
  Durability durability;
  uint64_t segment_bytes_max;
  uint32_t preallocate_bytes;
  size_t padding;
  uint32_t sync_every_events;
};

StoreOptions options_for(const Variant& v, std::shared_ptr<Fs> fs) {
  StoreOptions o;
  o.fs = std::move(fs);
  o.durability = v.durability;
  o.sync_every_events = v.sync_every_events;
  o.segment_bytes_max = v.segment_bytes_max;
  o.preallocate_bytes = v.preallocate_bytes;
  return o;
}

// Runs the workload until its first error (the power cut or I/O error) and records what it
// tried; `on_error` sees the store as the error left it.
void run_workload(const Variant& v, const std::shared_ptr<SimFs>& fs, Model& model,
                  const std::function<void(Store&)>& on_error = {}) {
  auto opened = Store::open(kDir, options_for(v, fs));
  if (!opened) return;
  Store& store = **opened;
  int n = 0;
  auto plain = [&]() -> bool {
    const std::string name = "e" + std::to_string(n);
    model.units.push_back({Unit::kVisible, {name}, false});
    const bool ok = store.append(at(n++), kKind, bytes_of(name, v.padding)).has_value();
    model.units.back().acked = ok;
    return ok;
  };
  auto batch = [&]() -> bool {
    Unit unit{Unit::kVisible, {}, false};
    std::vector<BatchItem> items;
    for (int i = 0; i < 3; ++i, ++n) {
      unit.payloads.push_back("b" + std::to_string(n));
      items.push_back({at(n), kKind, bytes_of(unit.payloads.back(), v.padding), {}});
    }
    model.units.push_back(unit);
    const bool ok = store.append_batch(items).has_value();
    model.units.back().acked = ok;
    return ok;
  };
  auto fenced = [&](bool commit) -> bool {
    Unit unit{commit ? Unit::kVisible : Unit::kCancelled, {}, false, true};
    model.units.push_back(unit);
    auto fence = store.begin_fence();
    if (!fence) return false;
    for (int i = 0; i < 2; ++i, ++n) {
      const std::string name = (commit ? "f" : "x") + std::to_string(n);
      model.units.back().payloads.push_back(name);
      if (!fence->append(at(n), kKind, bytes_of(name, v.padding))) return false;
    }
    const bool ok = (commit ? fence->commit() : fence->cancel()).has_value();
    model.units.back().acked = ok;
    return ok;
  };
  auto checkpoint = [&]() -> bool {
    auto cursor = Cursor::resume(store, Region::all(), "c1");
    if (!cursor || !cursor->poll_batch(1000)) return false;
    model.checkpoint_attempts.push_back(cursor->position());
    if (!cursor->commit()) return false;
    model.checkpoint_acked = cursor->position();
    return true;
  };
  auto sync = [&]() -> bool {
    if (!store.sync()) return false;
    model.durable_units = model.units.size();
    return true;
  };
  std::vector<std::function<bool()>> steps = {plain, plain, batch, plain, sync, checkpoint, [&] { return fenced(true); },
                                              plain, plain, [&] { return fenced(false); }, plain, batch, plain,
                                              sync, plain, checkpoint};
  // Twice (deep: 12 times): later rounds run on rotated segments.
  for (int round = 0; round < (deep() ? 12 : 2); ++round) {
    for (auto& step : steps) {
      if (step()) continue;
      if (on_error) on_error(store);
      return;
    }
  }
  (void)store.close();
}

// Checks one crash disk against the model; returns the first violated rule ("" if none).
std::string check_disk(const Variant& v, const std::shared_ptr<SimFs>& disk, const Model& model) {
  auto opened = Store::open(kDir, options_for(v, disk));
  if (!opened) return "open refused: " + opened.error().to_string();
  Store& store = **opened;
  auto all = store.query(Region::all());
  if (!all) return "query failed: " + all.error().to_string();
  size_t next_event = 0;
  size_t units_present = 0;
  for (const Unit& unit : model.units) {
    if (unit.kind == Unit::kCancelled) continue;
    size_t matched = 0;
    while (matched < unit.payloads.size() && next_event + matched < all->size() &&
           payload_name((*all)[next_event + matched]) == unit.payloads[matched]) {
      ++matched;
    }
    if (matched != 0 && matched != unit.payloads.size()) return "unit " + unit.payloads[0] + " is partly visible";
    if (matched == 0) break;
    next_event += matched;
    ++units_present;
  }
  if (next_event != all->size()) {
    return "event " + payload_name((*all)[next_event]) + " is invented, reordered, cancelled or after a gap";
  }
  // kSync: acknowledged means durable; so does a committed fence. Otherwise only what a
  // sync() covered.
  size_t visible_units_seen = 0;
  for (size_t i = 0; i < model.units.size(); ++i) {
    const Unit& unit = model.units[i];
    if (unit.kind == Unit::kCancelled) continue;
    const bool durable = i < model.durable_units || (unit.acked && (unit.fence || v.durability == Durability::kSync));
    if (durable && visible_units_seen >= units_present) return "durable unit " + unit.payloads[0] + " lost";
    ++visible_units_seen;
  }
  auto report = store.verify();
  if (!report) return "verify failed: " + report.error().to_string();
  if (!report->ok()) return "verify found damage: " + report->damage->reason;
  auto cursor = Cursor::resume(store, Region::all(), "c1");
  if (!cursor) return "checkpoint refused: " + cursor.error().to_string();
  const uint64_t position = cursor->position();
  if (model.checkpoint_acked && position < *model.checkpoint_acked) return "acknowledged checkpoint lost";
  const auto& tried = model.checkpoint_attempts;
  if (position != 0 && std::find(tried.begin(), tried.end(), position) == tried.end()) return "checkpoint invented";
  const uint64_t last = store.stats().last_global_sequence;
  auto next = store.append(at(0), kKind, bytes_of("after", 1));
  if (!next) return "append after reopen failed: " + next.error().to_string();
  if (next->global_sequence != last + 1) return "append after reopen misplaced";
  return "";
}

// What a power cut can leave of one file's unsynced changes: every prefix, each with the next
// write torn, and, reordered, each write lost while the one after it (or all later changes)
// reached the disk.
std::vector<SimFs::Survivor> file_choices(const SimFs::PendingFile& f) {
  std::vector<SimFs::Survivor> choices;
  for (size_t kept = 0; kept <= f.changes; ++kept) {
    choices.push_back({f.path, kept, false, std::nullopt});
    if (kept < f.changes && f.is_write[kept]) choices.push_back({f.path, kept, true, std::nullopt});
  }
  for (size_t lost = 0; lost + 1 < f.changes; ++lost) {
    if (!f.is_write[lost]) continue;
    choices.push_back({f.path, lost + 2, false, lost});
    if (lost + 2 < f.changes) choices.push_back({f.path, f.changes, false, lost});
  }
  return choices;
}

// The disks a cut could leave: the file_choices of every pending file combined across files
// (capped), under durable and current names.
std::vector<std::pair<std::vector<SimFs::Survivor>, bool>> crash_disks(const SimFs& fs) {
  std::vector<std::vector<SimFs::Survivor>> per_file;
  for (const auto& f : fs.pending_files()) per_file.push_back(file_choices(f));
  const size_t cap = deep() ? 4096 : 128;
  std::vector<std::vector<SimFs::Survivor>> combos{{}};
  for (const auto& choices : per_file) {
    std::vector<std::vector<SimFs::Survivor>> next;
    for (const auto& combo : combos) {
      for (const auto& choice : choices) {
        if (next.size() >= cap) break;
        next.push_back(combo);
        next.back().push_back(choice);
      }
    }
    combos = std::move(next);
  }
  std::vector<std::pair<std::vector<SimFs::Survivor>, bool>> out;
  for (const auto& combo : combos) {
    out.emplace_back(combo, false);
    out.emplace_back(combo, true);
  }
  return out;
}

// What checking one variant found.
struct VariantFigures {
  uint64_t states = 0;
  uint64_t cut_points = 0;
  uint64_t reordered = 0;
  std::vector<std::string> failures;  // At most 21, then the variant stops.
};

// Runs the workload of `v` once to the end and once with a power cut at each of its
// operations, checking every disk each cut could leave. Thread-safe: every run has its own
// SimFs, and Store::open on a SimFs takes no process-wide lock.
VariantFigures check_variant(const Variant& v) {
  VariantFigures fig;
  uint64_t total_ops = 0;
  {
    auto fs = std::make_shared<SimFs>();
    Model model;
    run_workload(v, fs, model);
    if (fs->crashed() || !model.units.back().acked || !model.checkpoint_acked) {
      fig.failures.push_back("the dry run did not complete");
      return fig;
    }
    total_ops = fs->operations();
    // The completed workload, closed cleanly, is a state too.
    const std::string broken = check_disk(v, fs->crashed_copy({}, false), model);
    if (!broken.empty()) fig.failures.push_back("after a clean close: " + broken);
    ++fig.states;
  }
  for (uint64_t cut = 1; cut <= total_ops; ++cut) {
    auto fs = std::make_shared<SimFs>();
    fs->crash_at(cut);
    Model model;
    run_workload(v, fs, model);
    ++fig.cut_points;
    for (const auto& [survivors, current_names] : crash_disks(*fs)) {
      ++fig.states;
      fig.reordered += std::any_of(survivors.begin(), survivors.end(),
                                   [](const SimFs::Survivor& s) { return s.lost_write.has_value(); });
      const std::string broken = check_disk(v, fs->crashed_copy(survivors, current_names), model);
      if (broken.empty()) continue;
      fig.failures.push_back("durability " + std::to_string(static_cast<int>(v.durability)) + ", segment_bytes_max " +
                             std::to_string(v.segment_bytes_max) + ", cut at operation " + std::to_string(cut) +
                             " of " + std::to_string(total_ops) + ", " + (current_names ? "current" : "durable") +
                             " names, " + std::to_string(survivors.size()) + " files with survivors: " + broken);
      if (fig.failures.size() > 20) return fig;
    }
  }
  return fig;
}

// Deep runs check variants on every core (BATPAK_CRASH_STATES_THREADS overrides); PR runs on one.
unsigned worker_count() {
  if (const char* n = std::getenv("BATPAK_CRASH_STATES_THREADS")) return std::max(1, std::atoi(n));
  return deep() ? std::max(1u, std::thread::hardware_concurrency()) : 1u;
}

TEST(CrashStates, EveryPowerCutOfTheWorkloadRecoversToAPrefixWithEveryAcknowledgedUnit) {
  std::vector<Variant> variants;
  for (Durability d : {Durability::kSync, Durability::kBuffered, Durability::kAsync}) {
    // kSync syncs every commit; the others every sync_every_events events (or sync()).
    for (uint32_t sync_every : d == Durability::kSync ? std::vector<uint32_t>{1} : std::vector<uint32_t>{4, 64}) {
      for (auto [segment, prealloc, padding] : std::vector<std::tuple<uint64_t, uint32_t, size_t>>{
               {4096, 0, 200}, {4096, 4096, 200}, {16384, 0, 40}, {8192, 8192, 700}}) {
        variants.push_back({d, segment, prealloc, padding, sync_every});
      }
      if (!deep()) continue;
      for (auto [segment, prealloc, padding] : std::vector<std::tuple<uint64_t, uint32_t, size_t>>{
               {65536, 65536, 3000}, {4096, 0, 1500}, {32768, 0, 100}, {8192, 4096, 400},
               {12288, 12288, 900}, {4096, 2048, 10}}) {
        variants.push_back({d, segment, prealloc, padding, sync_every});
      }
    }
  }
  std::vector<VariantFigures> figures(variants.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (unsigned w = 0; w < std::min<size_t>(worker_count(), variants.size()); ++w) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < variants.size(); i = next++) figures[i] = check_variant(variants[i]);
    });
  }
  for (std::thread& t : workers) t.join();

  VariantFigures total;
  for (const VariantFigures& f : figures) {
    total.states += f.states;
    total.cut_points += f.cut_points;
    total.reordered += f.reordered;
    for (const std::string& failure : f.failures) ADD_FAILURE() << failure;
    total.failures.insert(total.failures.end(), f.failures.begin(), f.failures.end());
  }
  std::printf("crash states checked: %llu (cut points %llu, with reordered writes %llu), failures: %zu\n",
              static_cast<unsigned long long>(total.states), static_cast<unsigned long long>(total.cut_points),
              static_cast<unsigned long long>(total.reordered), total.failures.size());
  RecordProperty("crash_states", static_cast<int>(total.states));
  EXPECT_GE(total.states, deep() ? 200000u : 10000u) << "too few crash states to mean much";
}

// The disk as it is, every change kept (an I/O error is no power cut).
std::vector<SimFs::Survivor> everything(const SimFs& fs) {
  std::vector<SimFs::Survivor> out;
  for (const auto& f : fs.pending_files()) out.push_back({f.path, f.changes, false, std::nullopt});
  return out;
}

// Invariant: an I/O error at any call of the workload, once or from then on, comes back as
// an error (never a crash or a hang); after a failed write or sync of a segment or of the
// fences file the store accepts no write until it is reopened, even though the file system
// works again; and the reopened store passes the crash-state checks.
TEST(IoErrors, AnErrorAtEveryCallIsReturnedStopsTheWriterAndReopensCleanly) {
  uint64_t cases = 0;
  uint64_t refused_after_failure = 0;
  for (Durability d : {Durability::kSync, Durability::kBuffered, Durability::kAsync}) {
    const Variant v{d, 4096, 0, 200, 4};
    auto dry = std::make_shared<SimFs>();
    Model dry_model;
    run_workload(v, dry, dry_model);
    const uint64_t total_ops = dry->operations();
    for (bool persistent : {false, true}) {
      for (uint64_t n = 1; n <= total_ops; ++n) {
        SCOPED_TRACE("durability " + std::to_string(static_cast<int>(d)) + ", error at call " + std::to_string(n) +
                     (persistent ? " and after" : " once"));
        auto fs = std::make_shared<SimFs>();
        fs->fail_at(n, persistent);
        Model model;
        bool stopped = false;
        run_workload(v, fs, model, [&](Store& store) {
          stopped = true;
          const std::string call = fs->failed_call();
          const bool journal = call.starts_with("pwrite") || call.starts_with("sync") || call.starts_with("truncate");
          // A segment footer is not the journal: the background thread that writes it
          // ignores its failure (the segment is scanned at open instead).
          const bool journal_file = (call.find(".seg") != std::string::npos && call.find(".footer") == std::string::npos) ||
                                    call.find("/fences") != std::string::npos;
          if (!journal || !journal_file) return;
          fs->fail_at(0, false);  // The disk works again: the store must still refuse.
          auto after = store.append(at(0), kKind, bytes_of("after-error", 1));
          if (after) {
            ADD_FAILURE() << "a write was accepted after a failed " << call;
            return;
          }
          ++refused_after_failure;
        });
        ++cases;
        if (fs->failed_call().empty()) {
          // kBuffered and kAsync sync on a timer too, so a run may make fewer calls than n.
          EXPECT_FALSE(stopped) << "the workload stopped without the injected error";
          continue;
        }
        if (!stopped) continue;  // The error hit a call whose failure the workload outlived.
        fs->fail_at(0, false);
        const std::string broken = check_disk(v, fs->crashed_copy(everything(*fs), true), model);
        EXPECT_EQ(broken, "");
      }
    }
  }
  std::printf("I/O error cases: %llu, writes refused after a failed journal call: %llu\n",
              static_cast<unsigned long long>(cases), static_cast<unsigned long long>(refused_after_failure));
  EXPECT_GT(cases, 300u);
  EXPECT_GT(refused_after_failure, 50u);
}

}  // namespace
}  // namespace batpak::testing
