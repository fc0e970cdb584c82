#include "cli.hpp"

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

int report_error(const Error& error) {
  nlohmann::json out = {{"error", std::string(error_code_name(error.code))},
                        {"message", error.message}};
  if (!error.file.empty()) {
    out["file"] = error.file;
    out["offset"] = error.offset;
  }
  if (!error.entity.empty()) out["entity"] = error.entity;
  std::cerr << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  return exit_code_for(error);
}

int usage_error(const std::string& message) {
  return report_error(Error{ErrorCode::kInvalidArgument, message, {}, 0, {}});
}

void print_line(const nlohmann::json& value) {
  std::cout << value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
}

Opened open_store(const std::string& dir, const StoreOptions& options) {
  auto store = Store::open(dir, options);
  if (!store) return {nullptr, report_error(store.error())};
  return {std::move(*store), kExitOk};
}

Opened open_store(const std::string& dir, AccessMode access) {
  StoreOptions options;
  options.access = access;
  return open_store(dir, options);
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
