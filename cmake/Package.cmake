# Debian packages of an installed build, made by CPack (scripts/package): `batpak`, the
# command (its library dependencies found by dpkg-shlibdeps), and `libbatpak-dev`, the
# headers, the static library and the CMake and pkg-config files, which depends on the
# Debian -dev packages those name. The packages install under CMAKE_INSTALL_PREFIX, so
# configure with -DCMAKE_INSTALL_PREFIX=/usr for a system package.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME batpak)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Embedded, tamper-evident event-sourcing store for C++")
set(CPACK_PACKAGE_CONTACT "batpak for C++ maintainers")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL cli dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_CLI_PACKAGE_NAME batpak)
set(CPACK_DEBIAN_CLI_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_CLI_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME libbatpak-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
  "libsodium-dev, libxxhash-dev, liblmdb-dev, liburing-dev, libmsgpack-cxx-dev, nlohmann-json3-dev, libexpected-dev, pkg-config")
set(CPACK_COMPONENT_CLI_DESCRIPTION "batpak command: init, append, query, verify and inspect event stores")
set(CPACK_COMPONENT_DEV_DESCRIPTION "batpak C++20 library: headers, static library, CMake and pkg-config files")
include(CPack)
