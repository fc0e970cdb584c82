// keygen: create a signing seed file. public-key: print the public key of a seed file.
// master-keygen: create a master key file.
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
}

}  // namespace batpak::cli
