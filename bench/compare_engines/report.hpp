// Results of a run: every round's value per (workload row, column), medians, ratios, the
// targets of issue 7, and their Markdown and JSON forms.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace engines {

// Columns of the tables: the engines, then "raw" (the W7 baseline that row compares with).
inline const std::vector<std::string> kColumns = {"batpak", "sqlite", "rocksdb", "lmdb", "raw"};

// Row names (the JSON uses them too).
inline constexpr const char* kW1One = "W1 durable, 1 event/commit, 1 writer";
inline constexpr const char* kW1Eight = "W1 durable, 1 event/commit, 8 writers";
inline constexpr const char* kW2Hundred = "W2 durable, 100 events/commit";
inline constexpr const char* kW2Thousand = "W2 durable, 1000 events/commit";
inline constexpr const char* kW3 = "W3 buffered, 1 event/commit, 1 writer";
inline constexpr const char* kW4Thousand = "W4 replay entity of 1,000 (warm)";
inline constexpr const char* kW4Hot = "W4 replay entity of 100,000 (warm)";
inline constexpr const char* kW5 = "W5 full scan, commit order";
inline constexpr const char* kW6Open = "W6 warm reopen";
inline constexpr const char* kW6OpenFooters = "W6 warm reopen from segment footers (no checkpoint)";
inline constexpr const char* kW6OpenFullScan = "W6 warm reopen, full scan (no checkpoint, no footers)";
inline constexpr const char* kW6Query = "W6 first query after reopen";
inline constexpr const char* kW6CheckpointRead = "W6 read of batpak's index.checkpoint file";
inline constexpr const char* kW7Blake3 = "W7 BLAKE3 of each 200-byte payload";

struct Series {
  std::string name;
  std::string unit;
  bool higher_better = true;
  std::map<std::string, std::vector<double>> rounds;  // Column -> one value per round.
};

// Per engine: the W5 store after it was built, and the reopen child's memory.
struct StoreFacts {
  uint64_t events = 0;
  double build_s = 0;
  uint64_t file_bytes = 0;
  uint64_t allocated_bytes = 0;
  uint64_t logical_bytes = 0;
  uint64_t rss_before_kib = 0;
  uint64_t peak_rss_kib = 0;
  uint64_t peak_rss_scan_kib = 0;
};

class Results {
 public:
  // Appends one round's value (0 = the measurement failed; kept, and shown as failed).
  void add(const std::string& row, const std::string& unit, bool higher_better, const std::string& column,
           double value);
  const Series* find(const std::string& row) const;
  // Median over the rounds, 0 when nothing was measured.
  double median(const std::string& row, const std::string& column) const;
  // How many times faster batpak is than `column` on `row` (>1: batpak faster), from the
  // medians; and the median of the same ratio taken within each round.
  double speed(const std::string& row, const std::string& column) const;
  double speed_per_round(const std::string& row, const std::string& column) const;

  std::map<std::string, StoreFacts> stores;
  std::map<std::string, std::string> raw_notes;  // Row -> what its raw column measured.
  const std::vector<Series>& series() const { return series_; }

 private:
  std::vector<Series> series_;
};

struct Target {
  std::string name;
  std::string measured;  // The ratio as printed.
  double value = 0;      // The ratio.
  double per_round = 0;  // The same ratio's median within rounds.
  double bound = 0;
  bool at_least = true;  // value >= bound, else value <= bound.
  bool available = false;
  std::string why_unavailable;
  bool met() const { return available && (at_least ? value >= bound : value <= bound); }
};

std::vector<Target> evaluate_targets(const Results& results);

// Prints the Markdown tables (results, storage and memory, targets).
void print_markdown(const Results& results, const std::vector<Target>& targets);
nlohmann::json to_json(const Results& results, const std::vector<Target>& targets);

}  // namespace engines
