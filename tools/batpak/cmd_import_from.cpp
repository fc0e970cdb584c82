// import --from: the events of another store copied into DIR (Store::import_from), once or,
// with --follow, pass after pass.
#include <chrono>
#include <thread>

#include "keys.hpp"
#include "write_args.hpp"

namespace batpak::cli {
namespace {

constexpr uint32_t kFollowPollMsDefault = 1000;

// Opens --from with its own master key: read-only (a snapshot with --snapshot), or with
// --follow always as a snapshot, so that the source's writer can run while it is followed.
Result<std::unique_ptr<Store>> open_source(const ImportArgs& a) {
  StoreOptions options;
  options.access = a.follow ? AccessMode::kReadSnapshot : read_only_access();
  if (!a.from_master_key_file.empty()) {
    auto key = read_master_key_file(a.from_master_key_file);
    if (!key) return tl::unexpected(key.error());
    options.master_key = *key;
  }
  return Store::open(a.from, options);
}

nlohmann::json report_json(const ImportReport& report) {
  return {{"imported", report.imported},
          {"already_present", report.already_present},
          {"skipped_shredded", report.skipped_shredded},
          {"source_visible_sequence", report.source_visible_sequence},
          {"source_visible_event_id",
           report.source_visible_event_id.is_nil() ? nlohmann::json() : nlohmann::json(report.source_visible_event_id.to_hex())}};
}

// Pauses --poll-ms between two passes of --follow; false when a stop signal came first.
bool wait_for_next_pass(const ImportArgs& a) {
  if (stop_requested()) return false;
  std::this_thread::sleep_for(std::chrono::milliseconds(a.poll_ms.value_or(kFollowPollMsDefault)));
  return !stop_requested();
}

}  // namespace

// Every report is printed after its events are durable (DIR is opened kSync). Each pass resumes
// at the last one's watermark and checks the source's event there (kConflict from import_from
// when the source lost events this copy holds, or the directory now holds another store).
int run_import_from(const ImportArgs& a) {
  if (a.poll_ms && !a.follow) return usage_error("--poll-ms needs --follow");
  if (a.after_event_id && !a.after) return usage_error("--after-event-id needs --after");
  auto region = region_from(a.region);
  if (!region) return report_error(region.error());
  auto after_event_id = a.after_event_id ? EventId::parse(*a.after_event_id) : Result<EventId>(EventId{});
  if (!after_event_id) return report_error(after_event_id.error());
  auto source = open_source(a);  // Before DIR: a source that cannot be opened leaves DIR as it was.
  if (!source) return report_error(source.error());
  auto options = write_options(a, Durability::kSync);
  if (!options) return report_error(options.error());
  Opened opened = open_store(a.dir, *options);
  if (!opened.store) return opened.exit_code;
  if (a.follow) stop_on_signals();
  ImportSelection selection{*region, a.after.value_or(0), *after_event_id};
  for (bool first = true;; first = false) {
    auto report = opened.store->import_from(**source, selection);
    source->reset();  // A snapshot keeps the source's segment files open until it is closed.
    if (!report) return report_error(report.error());
    if (first || report->source_visible_sequence > selection.after_global_sequence) print_line(report_json(*report));
    selection.after_global_sequence = report->source_visible_sequence;
    selection.after_event_id = report->source_visible_event_id;
    if (!a.follow || !wait_for_next_pass(a)) break;
    source = open_source(a);
    if (!source) return report_error(source.error());
  }
  if (auto closed = opened.store->close(); !closed) return report_error(closed.error());
  return kExitOk;
}

}  // namespace batpak::cli
