// Test names for suites parameterised by Durability: "Sync", "Buffered", "Async".
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "batpak/options.hpp"

namespace batpak::testing {

inline std::string durability_name(const ::testing::TestParamInfo<Durability>& info) {
  switch (info.param) {
    case Durability::kSync: return "Sync";
    case Durability::kBuffered: return "Buffered";
    case Durability::kAsync: return "Async";
  }
  return "Unknown";
}

}  // namespace batpak::testing
