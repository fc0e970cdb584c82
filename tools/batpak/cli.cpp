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
  std::cerr << out.dump() << std::endl;
  return exit_code_for(error);
}

int usage_error(const std::string& message) {
  return report_error(Error{ErrorCode::kInvalidArgument, message, {}, 0, {}});
}

void print_line(const nlohmann::json& value) { std::cout << value.dump() << std::endl; }

Opened open_store(const std::string& dir, AccessMode access) {
  StoreOptions options;
  options.access = access;
  auto store = Store::open(dir, options);
  if (!store) return {nullptr, report_error(store.error())};
  return {std::move(*store), kExitOk};
}

}  // namespace batpak::cli
