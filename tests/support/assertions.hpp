// Result-checking assertions shared by every test suite.
#pragma once

#include <gtest/gtest.h>

// Unwraps a Result in a test, failing with the error's text.
#define BATPAK_ASSERT_OK_AND_ASSIGN(lhs, expr)                               \
  auto lhs##_result = (expr);                                                \
  ASSERT_TRUE(lhs##_result.has_value()) << lhs##_result.error().to_string(); \
  auto& lhs = *lhs##_result

#define BATPAK_ASSERT_OK(expr)                                                     \
  do {                                                                             \
    auto batpak_status_ = (expr);                                                  \
    ASSERT_TRUE(batpak_status_.has_value()) << batpak_status_.error().to_string(); \
  } while (0)

#define BATPAK_EXPECT_ERROR(expr, expected_code)                            \
  do {                                                                      \
    auto batpak_result_ = (expr);                                           \
    ASSERT_FALSE(batpak_result_.has_value()) << "expected " #expected_code; \
    EXPECT_EQ(batpak_result_.error().code, expected_code)                   \
        << batpak_result_.error().to_string();                              \
  } while (0)
