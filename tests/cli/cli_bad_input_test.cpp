// Bad input on the CLI: a clear error on stderr, exit code 2, and nothing written.
#include <gtest/gtest.h>

#include "cli/cli_runner.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

class CliBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = run_cli({"append", store(), "--stdin"},
                     "{\"entity\":\"e\",\"scope\":\"s\",\"kind\":\"1:001\",\"payload\":1}\n");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::string store() const { return dir_.sub("store"); }
  int64_t event_count() { return run_cli({"stats", store()}).lines().at(0)["event_count"].get<int64_t>(); }
  // Appends `line` after a valid line via --stdin and checks: exit 2, error named, nothing written.
  void expect_refused(const std::string& line, const std::string& error_name) {
    const std::string good = "{\"entity\":\"e\",\"scope\":\"s\",\"kind\":\"1:001\",\"payload\":2}\n";
    auto r = run_cli({"append", store(), "--stdin"}, good + line + "\n");
    EXPECT_EQ(r.exit_code, 2) << line << " -> " << r.err;
    EXPECT_NE(r.err.find(error_name), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << "no receipt may be printed: " << r.out;
    EXPECT_EQ(event_count(), 1) << "nothing may be written for: " << line;
  }
  TempDir dir_;
};

TEST_F(CliBadInput, InvalidCoordinatesAreRefused) {
  expect_refused(R"({"entity":"a/b","scope":"s","kind":"1:001","payload":1})", "invalid_argument");
  expect_refused(R"({"entity":"","scope":"s","kind":"1:001","payload":1})", "invalid_argument");
  expect_refused(R"({"entity":"a\u0001","scope":"s","kind":"1:001","payload":1})", "invalid_argument");
  expect_refused(R"({"entity":"a","scope":"x=y","kind":"1:001","payload":1})", "invalid_argument");
  expect_refused(R"({"entity":")" + std::string(1025, 'e') + R"(","scope":"s","kind":"1:001","payload":1})",
                 "invalid_argument");
}

TEST_F(CliBadInput, InvalidUtf8IsRefused) {
  auto r = run_cli({"append", store(), "--entity", "a\xff", "--scope", "s", "--kind", "1:001", "--payload", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("UTF-8"), std::string::npos) << r.err;
  r = run_cli({"append", store(), "--entity", "e", "--scope", "\xc0\xaf", "--kind", "1:001", "--payload", "1"});
  EXPECT_EQ(r.exit_code, 2) << "overlong encoding: " << r.err;
  expect_refused("{\"entity\":\"a\xff\",\"scope\":\"s\",\"kind\":\"1:001\",\"payload\":1}", "invalid_argument");
  EXPECT_EQ(event_count(), 1);
}

TEST_F(CliBadInput, ReservedAndMalformedKindsAreRefused) {
  expect_refused(R"({"entity":"e","scope":"s","kind":"0:001","payload":1})", "reserved_kind");
  expect_refused(R"({"entity":"e","scope":"s","kind":"d:001","payload":1})", "reserved_kind");
  expect_refused(R"({"entity":"e","scope":"s","kind":"zz","payload":1})", "invalid_argument");
  expect_refused(R"({"entity":"e","scope":"s","kind":"70000","payload":1})", "invalid_argument");
}

TEST_F(CliBadInput, MalformedLinesAndFieldsAreRefused) {
  expect_refused(R"({"entity":"e","scope":"s","kind":"1:001","payload":)", "invalid_argument");
  expect_refused(R"(["not","an","object"])", "invalid_argument");
  expect_refused(R"({"entity":"e","scope":"s","kind":"1:001"})", "invalid_argument");
  expect_refused(R"({"entity":"e","scope":"s","kind":"1:001","payload":1,"extra":true})", "invalid_argument");
  expect_refused(R"({"entity":"e","scope":"s","kind":"1:001","payload":1,"causation":"xyz"})", "invalid_argument");
  expect_refused(R"({"entity":"e","scope":"s","kind":"1:001","payload":1,"expected_clock":-1})", "invalid_argument");
  expect_refused(R"({"entity":"e","scope":"s","kind":"1:001","payload":1,"idempotency_key":""})", "invalid_argument");
}

TEST_F(CliBadInput, OversizedPayloadIsRefused) {
  const std::string big(17u << 20, 'x');  // Over the 16 MiB default limit once encoded.
  expect_refused(R"({"entity":"e","scope":"s","kind":"1:001","payload":")" + big + "\"}", "too_large");
}

TEST_F(CliBadInput, BadIdsAndUsageExitTwo) {
  EXPECT_EQ(run_cli({"get", store(), "not-an-id"}).exit_code, 2);
  EXPECT_EQ(run_cli({"walk", store(), "1234"}).exit_code, 2);
  const std::string id(32, 'a');
  EXPECT_EQ(run_cli({"walk", store(), id, "--end", id}).exit_code, 2) << "--end needs --evidence";
  EXPECT_EQ(run_cli({"walk", store(), id, "--evidence", "--end", "12"}).exit_code, 2);
  EXPECT_EQ(run_cli({"walk", store(), id, "--evidence", "--expect-hash", "zz"}).exit_code, 2);
  EXPECT_EQ(run_cli({"verify-receipt", store()}, "{\"event_id\":1}\n").exit_code, 2) << "not a receipt";
  EXPECT_EQ(run_cli({"verify-receipt", store()}, "{\n").exit_code, 2) << "not JSON";
  EXPECT_EQ(run_cli({"append", store()}).exit_code, 2) << "neither --stdin nor flags";
  EXPECT_EQ(run_cli({"frobnicate", store()}).exit_code, 2);
  EXPECT_EQ(run_cli({"query", store(), "--kind", "1:001", "--category", "1"}).exit_code, 2);
  EXPECT_EQ(run_cli({"project", store(), "--entity", "e", "--fold", "median"}).exit_code, 2);
  EXPECT_EQ(run_cli({"append", store(), "--entity", "e", "--scope", "s", "--kind", "1:001", "--payload", "{"})
                .exit_code,
            2);
  EXPECT_EQ(event_count(), 1);
}

// Numeric flags take decimal digits only: CLI11's own parsing (strtoull in auto base) would
// read "-1" as 2^64 - 1, "010" as octal 8 and "0x2" as 2, and answer a different question.
TEST_F(CliBadInput, NumericFlagsTakeDecimalDigitsOnly) {
  for (const char* lax : {"-1", "0x2", "+1", "1e3", " 1", "", "18446744073709551616"}) {
    for (const char* flag : {"--after", "--limit"}) {
      auto r = run_cli({"query", store(), flag, lax});
      EXPECT_EQ(r.exit_code, 2) << flag << " '" << lax << "': " << r.out;
      EXPECT_NE(r.err.find("invalid_argument"), std::string::npos) << r.err;
    }
    EXPECT_EQ(run_cli({"tail", store(), "--from", lax}).exit_code, 2) << lax;
    EXPECT_EQ(run_cli({"append", store(), "--entity", "e", "--scope", "s", "--kind", "1:001", "--payload", "1",
                       "--expected-clock", lax})
                  .exit_code,
              2)
        << lax;
  }
  EXPECT_EQ(run_cli({"query", store(), "--category", "-1"}).exit_code, 2);
  EXPECT_EQ(run_cli({"append", store(), "--entity", "e", "--scope", "s", "--kind", "1:001", "--payload", "1",
                     "--expected-clock", "4294967296"})
                .exit_code,
            2)
      << "too large for a clock";
  EXPECT_EQ(event_count(), 1);
  // Leading zeros are decimal: "010" is ten, so the one event (global sequence 1) is listed.
  EXPECT_EQ(run_cli({"query", store(), "--limit", "010"}).lines().size(), 1u);
  EXPECT_EQ(run_cli({"query", store(), "--after", "00"}).lines().size(), 1u);
}

TEST_F(CliBadInput, MissingStoreIsAFinding) {
  auto r = run_cli({"stats", dir_.sub("nothing-here")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not_found"), std::string::npos) << r.err;
}

class CliBadImport : public CliBadInput {
 protected:
  // Imports a valid export line followed by `bad` (the export line edited by `edit`) into an
  // empty store, and checks: exit 2, no receipt, nothing written.
  template <class Edit>
  void expect_import_refused(Edit edit, const std::string& error_name) {
    const std::string good = run_cli({"export", store()}).out;
    nlohmann::json bad = nlohmann::json::parse(good);
    edit(bad);
    auto r = run_cli({"import", dir_.sub("copy")}, good + bad.dump() + "\n");
    EXPECT_EQ(r.exit_code, 2) << bad.dump() << " -> " << r.err;
    EXPECT_NE(r.err.find(error_name), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_NE(run_cli({"stats", dir_.sub("copy")}).exit_code, 0) << "no store may be created";
  }
};

TEST_F(CliBadImport, MalformedLinesAreRefusedBeforeWriting) {
  auto exported = run_cli({"export", store()});
  auto r = run_cli({"import", dir_.sub("copy")}, exported.out + "{\"event_id\":\"nope\"}\n");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(r.out.empty());
  r = run_cli({"import", dir_.sub("copy")}, exported.out + "not json\n");
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST_F(CliBadImport, FieldsTheStoreWouldRefuseAreRefusedBeforeWriting) {
  expect_import_refused([](nlohmann::json& j) { j["kind"] = "0:001"; }, "reserved_kind");
  expect_import_refused([](nlohmann::json& j) { j["event_id"] = std::string(32, '0'); }, "invalid_argument");
  expect_import_refused([](nlohmann::json& j) { j["entity"] = "a|b"; }, "invalid_argument");
  expect_import_refused([](nlohmann::json& j) { j["payload_hex"] = "abc"; }, "invalid_argument");
  expect_import_refused([](nlohmann::json& j) { j["payload_hex"] = std::string(2 * ((16u << 20) + 1), 'a'); },
                        "too_large");
}

}  // namespace
}  // namespace batpak::testing
