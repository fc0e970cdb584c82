// Medians, ratios, targets and the Markdown / JSON report (see report.hpp).
#include "report.hpp"

#include <algorithm>
#include <cstdio>

#include "../bench_common.hpp"

namespace engines {

void Results::add(const std::string& row, const std::string& unit, bool higher_better, const std::string& column,
                  double value) {
  for (Series& s : series_) {
    if (s.name == row) {
      s.rounds[column].push_back(value);
      return;
    }
  }
  series_.push_back(Series{row, unit, higher_better, {{column, {value}}}});
}

const Series* Results::find(const std::string& row) const {
  for (const Series& s : series_) {
    if (s.name == row) return &s;
  }
  return nullptr;
}

namespace {

const std::vector<double>* values(const Results& r, const std::string& row, const std::string& column) {
  const Series* s = r.find(row);
  if (s == nullptr) return nullptr;
  auto it = s->rounds.find(column);
  return it == s->rounds.end() ? nullptr : &it->second;
}

bool all_positive(const std::vector<double>* v) {
  if (v == nullptr || v->empty()) return false;
  for (double x : *v) {
    if (!(x > 0)) return false;
  }
  return true;
}

// Speed of a over b for one series: a/b for rates, b/a for times.
double faster(bool higher_better, double a, double b) {
  return higher_better ? bench::ratio(a, b) : bench::ratio(b, a);
}

// The series in workload order (W1 .. W7), whatever order they were measured in.
std::vector<const Series*> in_workload_order(const Results& r) {
  static const char* const kOrder[] = {kW1One, kW1Eight, kW2Hundred, kW2Thousand, kW3, kW4Thousand,
                                       kW4Hot, kW5, kW6Open, kW6OpenFooters, kW6OpenFullScan, kW6Query, kW6CheckpointRead, kW7Blake3};
  std::vector<const Series*> out;
  for (const char* name : kOrder) {
    if (const Series* s = r.find(name)) out.push_back(s);
  }
  for (const Series& s : r.series()) {
    if (std::find(out.begin(), out.end(), &s) == out.end()) out.push_back(&s);
  }
  return out;
}

std::string format_value(double v) {
  char text[64];
  if (v >= 1000) {
    std::string digits = std::to_string(static_cast<long long>(v + 0.5));
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
      if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
      out += digits[i];
    }
    return out;
  }
  if (v >= 100) {
    std::snprintf(text, sizeof(text), "%.0f", v);
  } else if (v >= 10) {
    std::snprintf(text, sizeof(text), "%.1f", v);
  } else if (v >= 1) {
    std::snprintf(text, sizeof(text), "%.2f", v);
  } else {
    std::snprintf(text, sizeof(text), "%.3g", v);
  }
  return text;
}

std::string format_ratio(double v) {
  char text[32];
  std::snprintf(text, sizeof(text), v >= 10 ? "%.1fx" : "%.2fx", v);
  return text;
}

}  // namespace

double Results::median(const std::string& row, const std::string& column) const {
  const auto* v = values(*this, row, column);
  return all_positive(v) ? bench::median(*v) : 0;
}

double Results::speed(const std::string& row, const std::string& column) const {
  const Series* s = find(row);
  if (s == nullptr) return 0;
  const double a = median(row, "batpak"), b = median(row, column);
  return a > 0 && b > 0 ? faster(s->higher_better, a, b) : 0;
}

double Results::speed_per_round(const std::string& row, const std::string& column) const {
  const Series* s = find(row);
  const auto* a = values(*this, row, "batpak");
  const auto* b = values(*this, row, column);
  if (s == nullptr || !all_positive(a) || !all_positive(b)) return 0;
  std::vector<double> ratios;
  for (size_t i = 0; i < std::min(a->size(), b->size()); ++i) ratios.push_back(faster(s->higher_better, (*a)[i], (*b)[i]));
  return bench::median(ratios);
}

std::vector<Target> evaluate_targets(const Results& r) {
  std::vector<Target> targets;
  // `speed` is batpak's speed relative to the column; a latency or time bound is the inverse.
  auto add = [&](std::string name, const char* row, const std::string& column, double bound, bool at_least,
                 bool inverse) {
    Target t;
    t.name = std::move(name);
    t.bound = bound;
    t.at_least = at_least;
    const double s = r.speed(row, column), p = r.speed_per_round(row, column);
    t.available = s > 0;
    t.value = inverse && s > 0 ? 1 / s : s;
    t.per_round = inverse && p > 0 ? 1 / p : p;
    t.measured = t.available ? format_ratio(t.value) + " (per round " + format_ratio(t.per_round) + ")" : "not measured";
    if (!t.available) t.why_unavailable = "not measured in this run";
    targets.push_back(t);
  };
  add("W1 1 writer: >= 1.0x SQLite (WAL, synchronous=FULL)", kW1One, "sqlite", 1.0, true, false);
  add("W1 1 writer: latency <= 1.15x raw append+fdatasync", kW1One, "raw", 1.15, false, true);
  add("W1 8 writers: >= 4x SQLite", kW1Eight, "sqlite", 4.0, true, false);
  add("W2 1000/commit: >= 5x SQLite FULL", kW2Thousand, "sqlite", 5.0, true, false);
  add("W2 1000/commit: >= 3x RocksDB sync", kW2Thousand, "rocksdb", 3.0, true, false);
  add("W2 1000/commit: >= 0.7x raw append log (W7)", kW2Thousand, "raw", 0.7, true, false);
  add("W2 100/commit: >= 3x SQLite FULL", kW2Hundred, "sqlite", 3.0, true, false);
  add("W3: >= 3x RocksDB without sync", kW3, "rocksdb", 3.0, true, false);
  add("W4 1,000 events: >= 2x SQLite warm", kW4Thousand, "sqlite", 2.0, true, false);
  add("W4 100,000 events: >= 2x SQLite warm", kW4Hot, "sqlite", 2.0, true, false);
  add("W5: >= 5x SQLite", kW5, "sqlite", 5.0, true, false);
  add("W5: >= 0.5x sequential read of the store's bytes", kW5, "raw", 0.5, true, false);
  // A batpak time over a raw time measured in another row of the same rounds.
  auto time_ratio = [&](std::string name, const char* row, const char* raw_row, double bound, const char* why_missing) {
    Target t;
    t.name = std::move(name);
    t.bound = bound;
    t.at_least = false;
    const double mine = r.median(row, "batpak"), raw = r.median(raw_row, "raw");
    t.available = mine > 0 && raw > 0;
    if (!t.available) {
      t.measured = "not measured";
      t.why_unavailable = why_missing;
      targets.push_back(t);
      return;
    }
    t.value = mine / raw;
    const auto* a = values(r, row, "batpak");
    const auto* b = values(r, raw_row, "raw");
    std::vector<double> ratios;
    for (size_t i = 0; a != nullptr && b != nullptr && i < std::min(a->size(), b->size()); ++i) {
      ratios.push_back(bench::ratio((*a)[i], (*b)[i]));
    }
    t.per_round = bench::median(ratios);
    t.measured = format_ratio(t.value) + " (per round " + format_ratio(t.per_round) + ")";
    targets.push_back(t);
  };
  time_ratio("W6 with index checkpoint: reopen <= 2x reading the checkpoint file", kW6Open, kW6CheckpointRead, 2.0,
             "the batpak W5 store has no index.checkpoint file");
  time_ratio("W6 without checkpoint, from segment footers: reopen <= 1.5x read + BLAKE3 of all bytes", kW6OpenFooters,
             kW6Open, 1.5, "not measured in this run");
  time_ratio("W6 without checkpoint or footers (full scan): reopen <= 1.5x read + BLAKE3 of all bytes", kW6OpenFullScan,
             kW6Open, 1.5, "not measured in this run");
  auto store = r.stores.find("batpak");
  Target space;
  space.name = "Space: <= 1.1x logical bytes (payload + header fields)";
  space.bound = 1.1;
  space.at_least = false;
  if (store != r.stores.end() && store->second.logical_bytes > 0) {
    space.available = true;
    space.value = bench::ratio(static_cast<double>(store->second.allocated_bytes),
                               static_cast<double>(store->second.logical_bytes));
    space.per_round = space.value;
    space.measured = format_ratio(space.value) + " (allocated bytes / logical bytes)";
  } else {
    space.measured = "not measured";
    space.why_unavailable = "the W5 store was not built in this run";
  }
  targets.push_back(space);
  return targets;
}

void print_markdown(const Results& r, const std::vector<Target>& targets) {
  std::printf("\n| workload | unit | batpak | sqlite | rocksdb | lmdb | raw (W7) | batpak vs sqlite | vs rocksdb | vs lmdb | vs raw |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Series* series : in_workload_order(r)) {
    const Series& s = *series;
    std::printf("| %s | %s%s |", s.name.c_str(), s.unit.c_str(), s.higher_better ? "" : " (lower is better)");
    for (const std::string& column : kColumns) {
      const auto it = s.rounds.find(column);
      const double m = r.median(s.name, column);
      std::printf(" %s |", it == s.rounds.end() ? "—" : m > 0 ? format_value(m).c_str() : "failed");
    }
    for (const std::string& column : kColumns) {
      if (column == "batpak") continue;
      const double x = r.speed(s.name, column);
      std::printf(" %s |", x > 0 ? format_ratio(x).c_str() : "—");
    }
    std::printf("\n");
  }
  std::printf("\nRatios are batpak's speed relative to the column (>1: batpak faster), from the medians.\n");
  for (const auto& [row, note] : r.raw_notes) std::printf("- raw in \"%s\": %s\n", row.c_str(), note.c_str());

  if (!r.stores.empty()) {
    std::printf("\n| engine (W5 store) | events | build s | file bytes/event | allocated bytes/event | logical bytes/event | allocated / logical | peak RSS open+query MiB | + full scan MiB |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (const std::string& column : kColumns) {
      auto it = r.stores.find(column);
      if (it == r.stores.end()) continue;
      const StoreFacts& f = it->second;
      const double n = static_cast<double>(std::max<uint64_t>(1, f.events));
      std::printf("| %s | %s | %.1f | %.1f | %.1f | %.1f | %.2fx | %s | %s |\n", column.c_str(),
                  format_value(static_cast<double>(f.events)).c_str(), f.build_s, static_cast<double>(f.file_bytes) / n,
                  static_cast<double>(f.allocated_bytes) / n, static_cast<double>(f.logical_bytes) / n,
                  bench::ratio(static_cast<double>(f.allocated_bytes), static_cast<double>(f.logical_bytes)),
                  f.peak_rss_kib > 0 ? format_value(static_cast<double>(f.peak_rss_kib) / 1024).c_str() : "—",
                  f.peak_rss_scan_kib > 0 ? format_value(static_cast<double>(f.peak_rss_scan_kib) / 1024).c_str() : "—");
    }
  }

  std::printf("\n| target (issue 7) | measured | met |\n|---|---|---|\n");
  for (const Target& t : targets) {
    std::printf("| %s | %s | %s |\n", t.name.c_str(), t.measured.c_str(),
                !t.available ? t.why_unavailable.c_str() : t.met() ? "**met**" : "**missed**");
  }
}

nlohmann::json to_json(const Results& r, const std::vector<Target>& targets) {
  nlohmann::json rows = nlohmann::json::array();
  for (const Series* series : in_workload_order(r)) {
    const Series& s = *series;
    nlohmann::json row = {{"name", s.name}, {"unit", s.unit}, {"higher_is_better", s.higher_better}};
    for (const auto& [column, v] : s.rounds) {
      row["rounds"][column] = v;
      row["median"][column] = r.median(s.name, column);
      if (column != "batpak") {
        row["batpak_speed_vs"][column] = r.speed(s.name, column);
        row["batpak_speed_vs_per_round_median"][column] = r.speed_per_round(s.name, column);
      }
    }
    rows.push_back(row);
  }
  nlohmann::json stores = nlohmann::json::object();
  for (const auto& [engine, f] : r.stores) {
    stores[engine] = {{"events", f.events},
                      {"build_s", f.build_s},
                      {"file_bytes", f.file_bytes},
                      {"allocated_bytes", f.allocated_bytes},
                      {"logical_bytes", f.logical_bytes},
                      {"rss_before_open_kib", f.rss_before_kib},
                      {"peak_rss_open_query_kib", f.peak_rss_kib},
                      {"peak_rss_after_scan_kib", f.peak_rss_scan_kib}};
  }
  nlohmann::json goals = nlohmann::json::array();
  for (const Target& t : targets) {
    goals.push_back({{"target", t.name},
                     {"available", t.available},
                     {"ratio", t.value},
                     {"per_round_ratio", t.per_round},
                     {"bound", t.bound},
                     {"at_least", t.at_least},
                     {"met", t.met()},
                     {"note", t.available ? "" : t.why_unavailable}});
  }
  return {{"rows", rows}, {"raw_notes", r.raw_notes}, {"stores", stores}, {"targets", goals}};
}

}  // namespace engines
