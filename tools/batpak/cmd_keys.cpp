// keygen: create a signing seed file. public-key: print the public key of a seed file.
// master-keygen: create a master key file. change-master-key: wrap a store's payload keys
// under another master key, or under none.
#include "cli.hpp"
#include "commands.hpp"
#include "keys.hpp"

namespace batpak::cli {
namespace {

int print_public_key(const std::string& seed_file, const SigningSeed& seed) {
  auto public_key = signing_public_key(seed);
  if (!public_key) return report_error(public_key.error());
  print_line({{"seed_file", seed_file}, {"public_key", to_hex(*public_key)}});
  return kExitOk;
}

int run_keygen(const std::string& seed_file) {
  auto seed = write_new_seed_file(seed_file);
  if (!seed) return report_error(seed.error());
  return print_public_key(seed_file, *seed);
}

int run_public_key(const std::string& seed_file) {
  auto seed = read_seed_file(seed_file);
  if (!seed) return report_error(seed.error());
  return print_public_key(seed_file, *seed);
}

int run_master_keygen(const std::string& key_file) {
  auto key = write_new_master_key_file(key_file);
  if (!key) return report_error(key.error());
  print_line({{"master_key_file", key_file}});
  return kExitOk;
}

struct ChangeMasterKeyArgs {
  std::string dir;
  std::string new_master_key_file;
  bool no_master_key = false;
};

int run_change_master_key(const ChangeMasterKeyArgs& a) {
  if (a.new_master_key_file.empty() == !a.no_master_key) {
    return usage_error("change-master-key needs one of --new-master-key-file and --no-master-key");
  }
  std::optional<MasterKey> next;
  if (!a.no_master_key) {
    auto key = read_master_key_file(a.new_master_key_file);
    if (!key) return report_error(key.error());
    next = *key;
  }
  Opened opened = open_existing_store(a.dir);
  if (!opened.store) return opened.exit_code;
  if (auto changed = opened.store->change_master_key(next); !changed) return report_error(changed.error());
  const StoreStats stats = opened.store->stats();
  if (auto closed = opened.store->close(); !closed) return report_error(closed.error());
  print_line({{"payload_keys", stats.payload_keys}, {"payload_keys_wrapped", stats.payload_keys_wrapped}});
  return kExitOk;
}

}  // namespace

void add_key_commands(CLI::App& app, Runner& run) {
  static std::string keygen_file;
  auto* keygen = app.add_subcommand("keygen", "Create a new signing seed file (mode 0600) and print its public key");
  keygen->add_option("SEED_FILE", keygen_file, "the file to create (must not exist)")->required();
  keygen->callback([&run] { run = [] { return run_keygen(keygen_file); }; });

  static std::string public_key_file;
  auto* public_key = app.add_subcommand("public-key", "Print the public key of a signing seed file");
  public_key->add_option("SEED_FILE", public_key_file, "a file written by keygen")->required();
  public_key->callback([&run] { run = [] { return run_public_key(public_key_file); }; });

  static std::string master_key_file;
  auto* master_keygen = app.add_subcommand(
      "master-keygen", "Create a new master key file (mode 0600) for `init --master-key-file` (docs/encryption.md)");
  master_keygen->add_option("KEY_FILE", master_key_file, "the file to create (must not exist)")->required();
  master_keygen->callback([&run] { run = [] { return run_master_keygen(master_key_file); }; });

  static ChangeMasterKeyArgs change_args;
  auto* change = app.add_subcommand(
      "change-master-key",
      "Wrap an encrypting store's payload keys under a new master key, or none; the current one comes from "
      "--master-key-file (docs/encryption.md)");
  change->add_option("DIR", change_args.dir, "data directory")->required();
  change->add_option("--new-master-key-file", change_args.new_master_key_file,
                     "the master key file (from master-keygen) to wrap the keys under from now on");
  change->add_flag("--no-master-key", change_args.no_master_key, "keep the payload keys unwrapped from now on");
  change->callback([&run] { run = [] { return run_change_master_key(change_args); }; });
}

}  // namespace batpak::cli
