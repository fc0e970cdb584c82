include(CMakePackageConfigHelpers)

# Two components, one Debian package each (cmake/Package.cmake): `cli`, the batpak command,
# and `dev`, what a C++ project builds against.
install(TARGETS batpak_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT cli)
install(TARGETS batpak EXPORT batpakTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/batpak DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT dev)
install(EXPORT batpakTargets NAMESPACE batpak::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/batpak COMPONENT dev)

configure_package_config_file(cmake/batpakConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/batpakConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/batpak)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/batpakConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/batpakConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/batpakConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/batpak COMPONENT dev)

configure_file(cmake/batpak.pc.in ${CMAKE_CURRENT_BINARY_DIR}/batpak.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/batpak.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)
