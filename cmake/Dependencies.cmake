# Every dependency is a Debian package installed by scripts/setup; nothing is fetched.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(msgpack REQUIRED)  # Debian names the msgpack-cxx package "msgpack".
find_package(nlohmann_json 3.10 REQUIRED)
find_package(tl-expected REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(LMDB REQUIRED IMPORTED_TARGET lmdb)
pkg_check_modules(URING REQUIRED IMPORTED_TARGET liburing)  # Batched reads (src/io/uring_reader.cpp).
