// verify: re-check every frame and chain link; exit 1 with a JSON report on any damage.
// verify-receipt: check receipts (JSON Lines on stdin) against the store, a public key, or
// both; exit 1 if one fails.
#include "cli.hpp"
#include "commands.hpp"
#include "keys.hpp"
#include "requests.hpp"

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

// One receipt's verdict: {"event_id", "global_sequence", "valid"}, and when it is not valid
// the error's code name and message.
nlohmann::json verdict_json(const Receipt& receipt, const Status& status) {
  nlohmann::json out = {{"event_id", receipt.event_id.to_hex()},
                        {"global_sequence", receipt.global_sequence},
                        {"valid", status.has_value()}};
  if (!status) {
    out["error"] = error_code_name(status.error().code);
    out["message"] = status.error().message;
  }
  return out;
}

struct ReceiptArgs {
  std::string dir;         // Empty: check the signatures only, without a store.
  std::string public_key;  // Empty: the store's own check (with its signing record's key, if any).
};

int run_verify_receipts(const ReceiptArgs& args) {
  if (args.dir.empty() && args.public_key.empty()) return usage_error("give DIR, --public-key, or both");
  std::optional<PublicKey> key;
  if (!args.public_key.empty()) {
    auto parsed = parse_public_key(args.public_key);
    if (!parsed) return report_error(parsed.error());
    key = *parsed;
  }
  auto receipts = read_stdin_lines<Receipt>([](const nlohmann::json& line) { return receipt_from_json(line); });
  if (!receipts) return report_error(receipts.error());
  Opened opened;
  if (!args.dir.empty()) {
    opened = open_store(args.dir, AccessMode::kReadOnly);
    if (!opened.store) return opened.exit_code;
  }
  auto verify = [&](const Receipt& receipt) -> Status {
    if (!opened.store) return verify_receipt_signature(receipt, *key);
    return key ? opened.store->verify_receipt(receipt, *key) : opened.store->verify_receipt(receipt);
  };
  bool all_valid = true;
  for (const Receipt& receipt : *receipts) {
    const Status status = verify(receipt);
    all_valid = all_valid && status.has_value();
    print_line(verdict_json(receipt, status));
  }
  return all_valid ? kExitOk : kExitFinding;
}

}  // namespace

void add_verify_command(CLI::App& app, Runner& run) {
  static std::string dir;
  auto* verify = app.add_subcommand("verify", "Check every checksum and chain link; exit 1 on damage");
  verify->add_option("DIR", dir, "data directory")->required();
  verify->callback([&run] { run = [] { return run_verify(dir); }; });

  static ReceiptArgs receipt_args;
  auto* receipts = app.add_subcommand(
      "verify-receipt",
      "Check receipts (JSON Lines on stdin, as append prints them) against the store and/or a public key; exit 1 if "
      "one fails");
  receipts->add_option("DIR", receipt_args.dir, "data directory (without it: signatures only)");
  receipts->add_option("--public-key", receipt_args.public_key, "require a valid signature under this key (64 hex)");
  receipts->callback([&run] { run = [] { return run_verify_receipts(receipt_args); }; });
}

}  // namespace batpak::cli
