// Signing on the command line (docs/cli.md, "Signing"): keygen, public-key, signed appends
// and imports, and verify-receipt against a public key with or without the store.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "batpak/batpak.hpp"
#include "cli/cli_runner.hpp"
#include "support/assertions.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

const char* kTwoEvents =
    "{\"entity\":\"order:1\",\"scope\":\"shop\",\"kind\":\"1:001\",\"payload\":{\"qty\":3}}\n"
    "{\"entity\":\"order:1\",\"scope\":\"shop\",\"kind\":\"1:002\",\"payload\":{\"qty\":4}}\n";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const std::string& path, const std::string& text, mode_t mode) {
  std::ofstream(path, std::ios::binary) << text;
  ::chmod(path.c_str(), mode);
}

std::string as_lines(const std::vector<nlohmann::json>& values) {
  std::string lines;
  for (const nlohmann::json& v : values) lines += v.dump() + "\n";
  return lines;
}

class CliSigning : public ::testing::Test {
 protected:
  std::string store() const { return dir_.sub("store"); }
  std::string seed_file() const { return dir_.sub("seed"); }
  // Runs keygen on `path` and returns the public key it printed.
  std::string keygen(const std::string& path) {
    auto r = run_cli({"keygen", path});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.lines().at(0)["public_key"].get<std::string>();
  }
  std::vector<nlohmann::json> append_signed() {
    auto r = run_cli({"append", store(), "--stdin", "--signing-seed-file", seed_file()}, kTwoEvents);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.lines();
  }
  TempDir dir_;
};

TEST_F(CliSigning, KeygenWritesAnOwnerOnlySeedFileAndPrintsItsPublicKey) {
  const std::string public_key = keygen(seed_file());
  struct stat st {};
  ASSERT_EQ(::stat(seed_file().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string text = read_file(seed_file());
  ASSERT_EQ(text.size(), 65u);
  EXPECT_EQ(text.back(), '\n');
  BATPAK_ASSERT_OK_AND_ASSIGN(seed, Hash32::parse(text.substr(0, 64)));
  BATPAK_ASSERT_OK_AND_ASSIGN(expected, signing_public_key(seed.bytes));
  EXPECT_EQ(public_key, Hash32{expected}.to_hex());

  auto shown = run_cli({"public-key", seed_file()});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(shown.lines().at(0)["public_key"], public_key);
  EXPECT_NE(keygen(dir_.sub("second")), public_key) << "each keygen draws a new seed";
}

TEST_F(CliSigning, KeygenNeverReplacesAnExistingFile) {
  write_file(seed_file(), "keep me\n", 0600);
  auto r = run_cli({"keygen", seed_file()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("already exists"), std::string::npos) << r.err;
  EXPECT_EQ(read_file(seed_file()), "keep me\n");
}

// The receipts of a signed append verify against the key alone, against the store and the
// key, and against the store alone (which checks them with the key it recorded).
TEST_F(CliSigning, SignedReceiptsVerifyWithTheKeyTheStoreOrBoth) {
  const std::string public_key = keygen(seed_file());
  auto receipts = append_signed();
  ASSERT_EQ(receipts.size(), 2u);
  for (const nlohmann::json& r : receipts) EXPECT_EQ(r["signature"].get<std::string>().size(), 128u) << r;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"verify-receipt", "--public-key", public_key},
        std::vector<std::string>{"verify-receipt", store(), "--public-key", public_key},
        std::vector<std::string>{"verify-receipt", store()}}) {
    auto verdicts = run_cli(args, as_lines(receipts));
    ASSERT_EQ(verdicts.exit_code, 0) << verdicts.err << verdicts.out;
    ASSERT_EQ(verdicts.lines().size(), 2u);
    for (const nlohmann::json& v : verdicts.lines()) EXPECT_EQ(v["valid"], true) << v;
  }
  nlohmann::json forged = receipts.at(1);
  std::string signature = forged["signature"];
  signature[10] = signature[10] == 'a' ? 'b' : 'a';
  forged["signature"] = signature;
  auto store_only = run_cli({"verify-receipt", store()}, forged.dump() + "\n");
  EXPECT_EQ(store_only.exit_code, 1) << "the store checks signatures with its recorded key";
}

// A store that signed once keeps signing: appending without its seed, or with another, is
// bad input that writes nothing; with its seed, appends go on signed.
TEST_F(CliSigning, ASigningStoreRefusesAppendsWithoutItsSeed) {
  const std::string public_key = keygen(seed_file());
  auto init = run_cli({"init", store(), "--signing-seed-file", seed_file()});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_TRUE(std::filesystem::exists(store() + "/signing.pub"));
  auto stats = run_cli({"stats", store()});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_EQ(stats.lines().at(0)["public_key"], public_key);
  auto unsigned_append = run_cli({"append", store(), "--stdin"}, kTwoEvents);
  EXPECT_EQ(unsigned_append.exit_code, 2);
  EXPECT_NE(unsigned_append.err.find("signing seed"), std::string::npos) << unsigned_append.err;
  keygen(dir_.sub("other-seed"));
  auto other = run_cli({"append", store(), "--stdin", "--signing-seed-file", dir_.sub("other-seed")}, kTwoEvents);
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.err.find("signing.pub"), std::string::npos) << other.err;
  EXPECT_EQ(run_cli({"export", store()}).out, "") << "nothing was written";
  auto receipts = append_signed();
  ASSERT_EQ(receipts.size(), 2u);
  EXPECT_EQ(receipts[0]["global_sequence"], 1);
  auto verdicts = run_cli({"verify-receipt", "--public-key", public_key}, as_lines(receipts));
  EXPECT_EQ(verdicts.exit_code, 0) << verdicts.out;
}

TEST_F(CliSigning, ImportSignsTheReceiptsItPrints) {
  const std::string public_key = keygen(seed_file());
  ASSERT_EQ(run_cli({"append", store(), "--stdin"}, kTwoEvents).exit_code, 0);
  auto exported = run_cli({"export", store()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  auto imported = run_cli({"import", dir_.sub("copy"), "--signing-seed-file", seed_file()}, exported.out);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  auto verdicts = run_cli({"verify-receipt", dir_.sub("copy"), "--public-key", public_key}, imported.out);
  EXPECT_EQ(verdicts.exit_code, 0) << verdicts.out;
  EXPECT_EQ(verdicts.lines().size(), 2u);
}

// Each kind of forgery is refused with exit 1: a changed signature, a changed field under an
// intact signature (also without the store), another key, and an unsigned receipt.
TEST_F(CliSigning, VerifyReceiptWithAKeyRefusesForgeriesOtherKeysAndUnsignedReceipts) {
  const std::string public_key = keygen(seed_file());
  const nlohmann::json good = append_signed().at(0);
  auto expect_refused = [&](const std::vector<std::string>& args, const nlohmann::json& receipt,
                            const std::string& reason) {
    auto r = run_cli(args, receipt.dump() + "\n");
    EXPECT_EQ(r.exit_code, 1) << reason << ": " << r.out << r.err;
    ASSERT_EQ(r.lines().size(), 1u) << reason;
    EXPECT_EQ(r.lines()[0]["valid"], false) << reason;
    EXPECT_EQ(r.lines()[0]["error"], "invalid_signature") << reason;
    EXPECT_NE(r.lines()[0]["message"].get<std::string>().find(reason), std::string::npos) << r.lines()[0];
  };
  const std::vector<std::string> key_only{"verify-receipt", "--public-key", public_key};
  const std::vector<std::string> store_and_key{"verify-receipt", store(), "--public-key", public_key};

  nlohmann::json bad_signature = good;
  std::string signature = good["signature"];
  signature[0] = signature[0] == '0' ? '1' : '0';
  bad_signature["signature"] = signature;
  expect_refused(key_only, bad_signature, "does not verify");
  expect_refused(store_and_key, bad_signature, "does not verify");

  nlohmann::json changed_field = good;
  changed_field["clock"] = 7;
  expect_refused(key_only, changed_field, "do not hash");
  expect_refused(store_and_key, changed_field, "clock differs");

  const std::string other_key = keygen(dir_.sub("other-seed"));
  expect_refused({"verify-receipt", "--public-key", other_key}, good, "does not verify");

  auto plain = run_cli({"append", dir_.sub("plain"), "--stdin"}, kTwoEvents);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_TRUE(run_cli({"stats", dir_.sub("plain")}).lines().at(0)["public_key"].is_null());
  expect_refused({"verify-receipt", dir_.sub("plain"), "--public-key", public_key}, plain.lines().at(0), "unsigned");
}

// A seed file that is missing, malformed or open to other users is bad input: exit 2, and
// no store is created or written.
TEST_F(CliSigning, SeedFileProblemsAreUsageErrorsThatWriteNothing) {
  keygen(seed_file());
  const std::string hex = read_file(seed_file()).substr(0, 64);
  const std::vector<std::pair<std::string, std::pair<std::string, mode_t>>> bad_files{
      {"group readable", {hex + "\n", 0640}},
      {"world readable", {hex + "\n", 0604}},
      {"too short", {hex.substr(0, 62) + "\n", 0600}},
      {"not hex", {std::string(64, 'g') + "\n", 0600}},
      {"two newlines", {hex + "\n\n", 0600}},
      {"trailing text", {hex + "\nmore", 0600}},
      {"empty", {"", 0600}},
  };
  for (const auto& [what, file] : bad_files) {
    const std::string path = dir_.sub("bad-seed");
    std::filesystem::remove(path);
    write_file(path, file.first, file.second);
    auto r = run_cli({"append", store(), "--stdin", "--signing-seed-file", path}, kTwoEvents);
    EXPECT_EQ(r.exit_code, 2) << what << ": " << r.err;
    EXPECT_NE(r.err.find("invalid_argument"), std::string::npos) << what << ": " << r.err;
  }
  auto missing = run_cli({"import", store(), "--signing-seed-file", dir_.sub("missing")}, "");
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_EQ(run_cli({"public-key", dir_.sub("missing")}).exit_code, 2);
  EXPECT_FALSE(std::filesystem::exists(store())) << "no store is created on bad input";
}

TEST_F(CliSigning, VerifyReceiptNeedsAStoreOrAWellFormedKey) {
  keygen(seed_file());
  const nlohmann::json receipt = append_signed().at(0);
  EXPECT_EQ(run_cli({"verify-receipt"}, receipt.dump() + "\n").exit_code, 2);
  EXPECT_EQ(run_cli({"verify-receipt", "--public-key", "abc"}, receipt.dump() + "\n").exit_code, 2);
  EXPECT_EQ(run_cli({"verify-receipt", "--public-key", std::string(64, 'z')}, receipt.dump() + "\n").exit_code, 2);
}

}  // namespace
}  // namespace batpak::testing
