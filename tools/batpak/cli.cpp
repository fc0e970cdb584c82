#include "cli.hpp"

#include <charconv>
#include <csignal>
#include <filesystem>
#include <iostream>

namespace batpak::cli {

int exit_code_for(const Error& error) {
  switch (error.code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kReservedKind:
    case ErrorCode::kTooLarge:
    case ErrorCode::kDecode:
      return kExitUsage;
    default:
      return kExitFinding;
  }
}

nlohmann::json error_json(const Error& error) {
  nlohmann::json out = {{"error", std::string(error_code_name(error.code))},
                        {"message", error.message}};
  if (!error.file.empty()) {
    out["file"] = error.file;
    out["offset"] = error.offset;
  }
  if (!error.entity.empty()) out["entity"] = error.entity;
  return out;
}

int report_error(const Error& error) {
  std::cerr << error_json(error).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  return exit_code_for(error);
}

int usage_error(const std::string& message) {
  return report_error(Error{ErrorCode::kInvalidArgument, message, {}, 0, {}});
}

void print_line(const nlohmann::json& value) {
  std::cout << value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

namespace {
volatile std::sig_atomic_t stop_signalled = 0;
extern "C" void note_stop_signal(int) { stop_signalled = 1; }
}  // namespace

void stop_on_signals() {
  std::signal(SIGINT, note_stop_signal);
  std::signal(SIGTERM, note_stop_signal);
}

bool stop_requested() { return stop_signalled != 0; }

namespace {
bool read_snapshots = false;
std::optional<MasterKey> master_key;
}  // namespace

void set_read_snapshots(bool on) { read_snapshots = on; }

void set_master_key(const std::optional<MasterKey>& key) { master_key = key; }

void apply_master_key(StoreOptions& options) {
  if (master_key) options.master_key = master_key;
}

AccessMode read_only_access() { return read_snapshots ? AccessMode::kReadSnapshot : AccessMode::kReadOnly; }

Opened open_store(const std::string& dir, StoreOptions options) {
  if (options.access == AccessMode::kReadOnly) options.access = read_only_access();
  apply_master_key(options);
  auto store = Store::open(dir, options);
  if (!store) return {nullptr, report_error(store.error())};
  return {std::move(*store), kExitOk};
}

Opened open_store(const std::string& dir, AccessMode access) {
  StoreOptions options;
  options.access = access;
  return open_store(dir, options);
}

CLI::Validator decimal_number() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        uint64_t value = 0;
        const char* end = text.data() + text.size();
        const auto [stop, ec] = std::from_chars(text.data(), end, value);
        if (text.empty() || ec != std::errc{} || stop != end) return "expected a decimal number, got '" + text + "'";
        text = std::to_string(value);
        return {};
      },
      "DECIMAL");
}

void add_region_options(CLI::App& command, RegionArgs& args) {
  command.add_option("--entity", args.entity, "entity prefix (namespace match: a matches a and a:*)");
  command.add_option("--scope", args.scope, "exact scope");
  command.add_option("--kind", args.kind, "exact kind");
  command.add_option("--category", args.category, "kind category 0..15")->check(decimal_number());
}

bool region_given(const RegionArgs& a) { return !a.entity.empty() || !a.scope.empty() || !a.kind.empty() || a.category; }

Result<Region> region_from(const RegionArgs& a) {
  Region region;
  if (!a.entity.empty()) region.entity_prefix = a.entity;
  if (!a.scope.empty()) region.scope = a.scope;
  if (!a.kind.empty() && a.category) return make_error(ErrorCode::kInvalidArgument, "give --kind or --category, not both");
  if (!a.kind.empty()) {
    auto kind = EventKind::parse(a.kind);
    if (!kind) return tl::unexpected(kind.error());
    region.kinds = KindFilter::exact(*kind);
  }
  if (a.category) {
    if (*a.category > 0xF) return make_error(ErrorCode::kInvalidArgument, "--category is 0..15");
    region.kinds = KindFilter::category(static_cast<uint8_t>(*a.category));
  }
  return region;
}

Opened open_existing_store(const std::string& dir) {
  if (!holds_store(dir)) return {nullptr, report_error(Error{ErrorCode::kNotFound, "no store at " + dir, {}, 0, {}})};
  return open_store(dir, StoreOptions{});
}

bool holds_store(const std::string& dir) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".seg") return true;
  }
  return false;
}

std::string to_hex(std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xF]);
  }
  return out;
}

}  // namespace batpak::cli
