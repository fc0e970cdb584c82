// Refills a Coordinate from bytes that were validated when they were written (and checked
// by their frame checksum when read), without validating them again or reallocating.
// Internal.
#pragma once

#include <string_view>

#include "batpak/types.hpp"

namespace batpak::detail {

struct CoordinateAccess {
  // REQUIRES: entity and scope are a valid coordinate (Coordinate::make would accept them).
  static void assign(Coordinate& coordinate, std::string_view entity, std::string_view scope) {
    coordinate.entity_.assign(entity);
    coordinate.scope_.assign(scope);
  }
};

}  // namespace batpak::detail
