// Secrets on the command line: the signing seed file, the public-key flag (docs/cli.md,
// "Signing") and the master key file (docs/cli.md, "Encryption").
#pragma once

#include <string>

#include "batpak/batpak.hpp"

namespace batpak::cli {

// Reads a seed file as `keygen` writes it: 64 hex characters, optionally followed by one
// newline. Refused (kInvalidArgument) when it cannot be read, is not a regular file, is
// readable or writable by anyone but its owner (as ssh refuses such a private key), or holds
// anything else.
Result<SigningSeed> read_seed_file(const std::string& path);

// Creates `path` (mode 0600; never over an existing file) holding a new seed, and makes it
// durable: the file and its directory are synced before this returns. Errors:
// kInvalidArgument when `path` exists or cannot be created, kIo when a write or sync fails
// (the file is then removed).
Result<SigningSeed> write_new_seed_file(const std::string& path);

// The same for a master key file (`master-keygen`, `--master-key-file`; docs/encryption.md):
// the same format and the same checks.
Result<MasterKey> read_master_key_file(const std::string& path);
Result<MasterKey> write_new_master_key_file(const std::string& path);

// Parses --public-key: 64 hex characters. Errors: kInvalidArgument.
Result<PublicKey> parse_public_key(const std::string& hex);

}  // namespace batpak::cli
