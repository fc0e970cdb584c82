// verify: re-check every frame and chain link; exit 1 with a JSON report on any damage.
#include "cli.hpp"
#include "commands.hpp"

namespace batpak::cli {
namespace {

nlohmann::json damage_json(const Damage& d) {
  return {{"file", d.file},
          {"offset", d.offset},
          {"global_sequence", d.global_sequence},
          {"event_id", d.event_id ? nlohmann::json(d.event_id->to_hex()) : nlohmann::json(nullptr)},
          {"reason", d.reason}};
}

int run_verify(const std::string& dir) {
  // Salvage mode opens a damaged store up to its damage, so the report can name it.
  Opened opened = open_store(dir, AccessMode::kSalvage);
  if (!opened.store) return opened.exit_code;
  auto report = opened.store->verify();
  if (!report) return report_error(report.error());
  const OpenReport& open = opened.store->open_report();
  nlohmann::json damage = nullptr;
  if (open.salvage_stopped_at) {
    const Error& e = *open.salvage_stopped_at;
    damage = damage_json(Damage{e.file, e.offset, 0, std::nullopt, e.message});
  } else if (report->damage) {
    damage = damage_json(*report->damage);
  }
  nlohmann::json torn = nullptr;
  if (open.torn_tail) {
    torn = {{"file", open.torn_tail_file}, {"offset", open.torn_tail_offset}, {"bytes", open.torn_tail_bytes}};
  }
  print_line({{"ok", damage.is_null()},
              {"events_checked", report->events_checked},
              {"segments_checked", report->segments_checked},
              {"damage", damage},
              {"torn_tail", torn}});
  return damage.is_null() ? kExitOk : kExitFinding;
}

}  // namespace

void add_verify_command(CLI::App& app, Runner& run) {
  static std::string dir;
  auto* verify = app.add_subcommand("verify", "Check every checksum and chain link; exit 1 on damage");
  verify->add_option("DIR", dir, "data directory")->required();
  verify->callback([&run] { run = [] { return run_verify(dir); }; });
}

}  // namespace batpak::cli
