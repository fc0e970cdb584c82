// Signing keys on the command line: the seed file and the public-key flag (docs/cli.md,
// "Signing").
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

// Parses --public-key: 64 hex characters. Errors: kInvalidArgument.
Result<PublicKey> parse_public_key(const std::string& hex);

}  // namespace batpak::cli
