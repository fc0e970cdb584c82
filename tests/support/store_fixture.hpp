// A store in a temporary directory: open() (re)opens it with the given options.
// Base is ::testing::Test or ::testing::TestWithParam<...>.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "batpak/store.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {

template <class Base = ::testing::Test>
class StoreFixture : public Base {
 protected:
  void open(StoreOptions options = {}) {
    store_.reset();
    auto opened = Store::open(dir_.sub("store"), std::move(options));
    ASSERT_TRUE(opened) << opened.error().to_string();
    store_ = std::move(*opened);
  }

  // Appends an event of kind 0x1001 to (entity, "s") with the entity's name as payload; its
  // global sequence, or 0 after reporting the failure.
  uint64_t append_event(const std::string& entity) {
    const std::vector<uint8_t> payload(entity.begin(), entity.end());
    auto r = store_->append(Coordinate::make(entity, "s").value(), EventKind(0x1001), payload);
    EXPECT_TRUE(r) << r.error().to_string();
    return r ? r->global_sequence : 0;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

// A StoreFixture parameterised by Durability (name the instantiations with
// durability_name from support/durability_names.hpp); opens the store in SetUp.
class DurabilityStoreFixture : public StoreFixture<::testing::TestWithParam<Durability>> {
 protected:
  void SetUp() override { open(options()); }
  StoreOptions options() const {
    StoreOptions o;
    o.durability = GetParam();
    return o;
  }
};

}  // namespace batpak::testing
