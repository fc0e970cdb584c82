// keygen: create a signing seed file. public-key: print the public key of a seed file.
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
}

}  // namespace batpak::cli
