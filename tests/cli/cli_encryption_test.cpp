// `init --encrypt-payloads` and `shred`: a store made to encrypt keeps doing so, its events
// read back as JSON, and after `shred` an entity's events (with `--namespace`, those of
// every entity in its namespace) print with a null payload and `payload_shredded`; export
// writes such an event with a null payload_hex, and import refuses that line before writing
// anything; bad input is exit 2. `master-keygen` makes a master key file (mode 0600), and a
// store made with `--master-key-file` opens for every command only with it; a missing or
// wrong one is exit 2. `change-master-key` moves the store to another master key (or none),
// after which only that one opens it. `backup --new-master-key-file` (or `--no-master-key`)
// writes a copy that opens only with that key, verified with it.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>

#include "cli/cli_runner.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

class CliEncryption : public ::testing::Test {
 protected:
  std::string store() const { return dir_.sub("store"); }
  void append(const std::string& entity, const std::string& payload) {
    CliResult r = run_cli({"append", store(), "--entity", entity, "--scope", "s", "--kind", "f:001", "--payload", payload});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.lines().at(0)["payload_encrypted"], true);
  }
  TempDir dir_;
};

TEST_F(CliEncryption, ShredMakesAnEntitysPayloadsNullAndLeavesTheRest) {
  CliResult init = run_cli({"init", store(), "--encrypt-payloads"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_EQ(init.lines().at(0)["encrypts_payloads"], true);
  append("user:alice", R"({"email":"alice@example.org"})");
  append("user:bob", R"({"email":"bob@example.org"})");

  CliResult shred = run_cli({"shred", store(), "--entity", "user:alice"});
  ASSERT_EQ(shred.exit_code, 0) << shred.err;
  EXPECT_EQ(shred.lines().at(0)["keys_shredded"], 1);

  CliResult query = run_cli({"query", store()});
  ASSERT_EQ(query.exit_code, 0) << query.err;
  ASSERT_EQ(query.lines().size(), 2u);
  EXPECT_EQ(query.lines()[0]["payload_shredded"], true);
  EXPECT_TRUE(query.lines()[0]["payload"].is_null());
  EXPECT_EQ(query.lines()[1]["payload_shredded"], false);
  EXPECT_EQ(query.lines()[1]["payload"]["email"], "bob@example.org");
  EXPECT_EQ(query.out.find("alice@example.org"), std::string::npos);

  CliResult stats = run_cli({"stats", store()});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_EQ(stats.lines().at(0)["payload_keys"], 2);
  EXPECT_EQ(stats.lines().at(0)["payload_keys_shredded"], 1);
  EXPECT_EQ(run_cli({"verify", store()}).exit_code, 0);

  CliResult exported = run_cli({"export", store()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  ASSERT_EQ(exported.lines().size(), 2u);
  EXPECT_TRUE(exported.lines()[0]["payload_hex"].is_null());
  CliResult imported = run_cli({"import", dir_.sub("copy")}, exported.out);
  EXPECT_EQ(imported.exit_code, 1) << imported.err;  // Refused before anything is written.
  EXPECT_NE(imported.err.find("payload_shredded"), std::string::npos) << imported.err;
  EXPECT_TRUE(imported.out.empty()) << imported.out;
  EXPECT_FALSE(std::filesystem::exists(dir_.sub("copy")));
}

TEST_F(CliEncryption, ShredWithNamespaceShredsEveryEntityInItAndNoOther) {
  ASSERT_EQ(run_cli({"init", store(), "--encrypt-payloads"}).exit_code, 0);
  append("user:7", R"({"name":"seven"})");
  append("user:7:address", R"({"street":"seventh"})");
  append("user:70", R"({"name":"seventy"})");
  CliResult shred = run_cli({"shred", store(), "--entity", "user:7", "--namespace"});
  ASSERT_EQ(shred.exit_code, 0) << shred.err;
  EXPECT_EQ(shred.lines().at(0)["entities"], 2);
  EXPECT_EQ(shred.lines().at(0)["keys_shredded"], 2);
  CliResult query = run_cli({"query", store()});
  ASSERT_EQ(query.exit_code, 0) << query.err;
  ASSERT_EQ(query.lines().size(), 3u);
  EXPECT_EQ(query.lines()[0]["payload_shredded"], true);
  EXPECT_EQ(query.lines()[1]["payload_shredded"], true);
  EXPECT_EQ(query.lines()[2]["payload"]["name"], "seventy");
}

TEST_F(CliEncryption, ShredRefusesAPlainStoreAMissingStoreAndABadEntity) {
  ASSERT_EQ(run_cli({"init", store()}).exit_code, 0);
  CliResult plain = run_cli({"shred", store(), "--entity", "e"});
  EXPECT_EQ(plain.exit_code, 2) << plain.err;
  EXPECT_NE(plain.err.find("invalid_argument"), std::string::npos) << plain.err;
  CliResult missing = run_cli({"shred", dir_.sub("nothing"), "--entity", "e"});
  EXPECT_EQ(missing.exit_code, 1) << missing.err;
  EXPECT_NE(missing.err.find("not_found"), std::string::npos) << missing.err;
  ASSERT_EQ(run_cli({"init", dir_.sub("sealed"), "--encrypt-payloads"}).exit_code, 0);
  CliResult bad = run_cli({"shred", dir_.sub("sealed"), "--entity", "bad\x01" "entity"});
  EXPECT_EQ(bad.exit_code, 2) << bad.err;
  CliResult no_flag = run_cli({"shred", dir_.sub("sealed")});
  EXPECT_EQ(no_flag.exit_code, 2) << no_flag.err;
}

TEST_F(CliEncryption, AStoreMadeWithAMasterKeyFileOpensOnlyWithIt) {
  const std::string key_file = dir_.sub("master.key");
  CliResult made = run_cli({"master-keygen", key_file});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_EQ(made.lines().at(0)["master_key_file"], key_file);
  struct stat st {};
  ASSERT_EQ(::stat(key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(run_cli({"master-keygen", key_file}).exit_code, 2);  // Never replaces a key.

  CliResult init = run_cli({"init", store(), "--master-key-file", key_file});  // Encrypts by itself.
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_EQ(init.lines().at(0)["encrypts_payloads"], true);
  CliResult appended = run_cli({"--master-key-file", key_file, "append", store(), "--entity", "user:m", "--scope",
                                "s", "--kind", "f:001", "--payload", R"({"pin":"4321"})"});
  ASSERT_EQ(appended.exit_code, 0) << appended.err;

  CliResult stats = run_cli({"stats", store(), "--master-key-file", key_file});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_EQ(stats.lines().at(0)["payload_keys_wrapped"], true);
  CliResult query = run_cli({"query", store(), "--master-key-file", key_file});
  ASSERT_EQ(query.exit_code, 0) << query.err;
  EXPECT_EQ(query.lines().at(0)["payload"]["pin"], "4321");

  const std::string other_key = dir_.sub("other.key");
  ASSERT_EQ(run_cli({"master-keygen", other_key}).exit_code, 0);
  for (const std::vector<std::string>& command :
       {std::vector<std::string>{"query", store()}, {"verify", store()}, {"stats", store()},
        {"shred", store(), "--entity", "user:m"}}) {
    std::vector<std::string> wrong = command;
    wrong.insert(wrong.end(), {"--master-key-file", other_key});
    for (const auto& args : {command, wrong}) {
      CliResult r = run_cli(args);
      EXPECT_EQ(r.exit_code, 2) << args.front() << ": " << r.err;
      EXPECT_NE(r.err.find("master key"), std::string::npos) << r.err;
    }
  }
  EXPECT_EQ(run_cli({"verify", store(), "--master-key-file", key_file}).exit_code, 0);
  CliResult missing_file = run_cli({"stats", store(), "--master-key-file", dir_.sub("absent.key")});
  EXPECT_EQ(missing_file.exit_code, 2) << missing_file.err;
}

TEST_F(CliEncryption, ChangeMasterKeyRewrapsTheKeysSoOnlyTheNewFileOpensTheStore) {
  const std::string first = dir_.sub("first.key");
  const std::string second = dir_.sub("second.key");
  ASSERT_EQ(run_cli({"master-keygen", first}).exit_code, 0);
  ASSERT_EQ(run_cli({"master-keygen", second}).exit_code, 0);
  ASSERT_EQ(run_cli({"init", store(), "--encrypt-payloads"}).exit_code, 0);
  append("user:c", R"({"card":"5555"})");

  CliResult added = run_cli({"change-master-key", store(), "--new-master-key-file", first});  // Plain keys until now.
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(added.lines().at(0)["payload_keys_wrapped"], true);
  EXPECT_EQ(added.lines().at(0)["payload_keys"], 1);
  EXPECT_EQ(run_cli({"query", store()}).exit_code, 2);
  CliResult replaced =
      run_cli({"--master-key-file", first, "change-master-key", store(), "--new-master-key-file", second});
  ASSERT_EQ(replaced.exit_code, 0) << replaced.err;
  EXPECT_EQ(run_cli({"query", store(), "--master-key-file", first}).exit_code, 2);
  CliResult query = run_cli({"query", store(), "--master-key-file", second});
  ASSERT_EQ(query.exit_code, 0) << query.err;
  EXPECT_EQ(query.lines().at(0)["payload"]["card"], "5555");

  // Exactly one of the two flags; the current master key must be given; a store must exist.
  EXPECT_EQ(run_cli({"change-master-key", store(), "--master-key-file", second}).exit_code, 2);
  EXPECT_EQ(run_cli({"change-master-key", store(), "--master-key-file", second, "--no-master-key",
                     "--new-master-key-file", first})
                .exit_code,
            2);
  EXPECT_EQ(run_cli({"change-master-key", store(), "--no-master-key"}).exit_code, 2);
  EXPECT_EQ(run_cli({"change-master-key", store(), "--new-master-key-file", dir_.sub("absent.key"),
                     "--master-key-file", second})
                .exit_code,
            2);
  EXPECT_EQ(run_cli({"change-master-key", dir_.sub("nothing"), "--no-master-key"}).exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists(dir_.sub("nothing")));

  CliResult removed = run_cli({"change-master-key", store(), "--master-key-file", second, "--no-master-key"});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(removed.lines().at(0)["payload_keys_wrapped"], false);
  EXPECT_EQ(run_cli({"query", store()}).exit_code, 0);
}

TEST_F(CliEncryption, ChangeMasterKeyRefusesAStoreThatDoesNotEncrypt) {
  const std::string key_file = dir_.sub("master.key");
  ASSERT_EQ(run_cli({"master-keygen", key_file}).exit_code, 0);
  ASSERT_EQ(run_cli({"init", store()}).exit_code, 0);
  CliResult r = run_cli({"change-master-key", store(), "--new-master-key-file", key_file});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("does not encrypt"), std::string::npos) << r.err;
}

TEST_F(CliEncryption, BackupWithANewMasterKeyFileMakesACopyThatOpensOnlyWithIt) {
  const std::string store_key = dir_.sub("store.key");
  const std::string copy_key = dir_.sub("copy.key");
  ASSERT_EQ(run_cli({"master-keygen", store_key}).exit_code, 0);
  ASSERT_EQ(run_cli({"master-keygen", copy_key}).exit_code, 0);
  ASSERT_EQ(run_cli({"init", store(), "--master-key-file", store_key}).exit_code, 0);
  CliResult appended = run_cli({"--master-key-file", store_key, "append", store(), "--entity", "user:b", "--scope",
                                "s", "--kind", "f:001", "--payload", R"({"iban":"DE00"})"});
  ASSERT_EQ(appended.exit_code, 0) << appended.err;

  const std::string copy = dir_.sub("copy");
  CliResult backup =
      run_cli({"--master-key-file", store_key, "backup", store(), copy, "--new-master-key-file", copy_key});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  EXPECT_EQ(backup.lines().at(0)["verified"], true);
  EXPECT_EQ(run_cli({"query", copy, "--master-key-file", store_key}).exit_code, 2);
  CliResult query = run_cli({"query", copy, "--master-key-file", copy_key});
  ASSERT_EQ(query.exit_code, 0) << query.err;
  EXPECT_EQ(query.lines().at(0)["payload"]["iban"], "DE00");
  EXPECT_EQ(run_cli({"query", store(), "--master-key-file", store_key}).exit_code, 0) << "the store is unchanged";

  const std::string plain_copy = dir_.sub("plain-copy");
  CliResult unwrapped = run_cli({"--master-key-file", store_key, "backup", store(), plain_copy, "--no-master-key"});
  ASSERT_EQ(unwrapped.exit_code, 0) << unwrapped.err;
  CliResult stats = run_cli({"stats", plain_copy});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_EQ(stats.lines().at(0)["payload_keys_wrapped"], false);

  const std::string refused = dir_.sub("refused");
  EXPECT_EQ(run_cli({"--master-key-file", store_key, "backup", store(), refused, "--no-master-key",
                     "--new-master-key-file", copy_key})
                .exit_code,
            2);
  EXPECT_EQ(run_cli({"--master-key-file", store_key, "backup", store(), refused, "--new-master-key-file",
                     dir_.sub("absent.key")})
                .exit_code,
            2);
  ASSERT_EQ(run_cli({"init", dir_.sub("plain")}).exit_code, 0);
  CliResult not_encrypting = run_cli({"backup", dir_.sub("plain"), refused, "--new-master-key-file", copy_key});
  EXPECT_EQ(not_encrypting.exit_code, 2) << not_encrypting.err;
  EXPECT_FALSE(std::filesystem::exists(refused));
}

}  // namespace
}  // namespace batpak::testing
