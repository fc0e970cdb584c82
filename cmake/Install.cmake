include(CMakePackageConfigHelpers)

install(TARGETS batpak batpak_cli EXPORT batpakTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/batpak DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT batpakTargets NAMESPACE batpak::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/batpak)

configure_package_config_file(cmake/batpakConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/batpakConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/batpak)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/batpakConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/batpakConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/batpakConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/batpak)

configure_file(cmake/batpak.pc.in ${CMAKE_CURRENT_BINARY_DIR}/batpak.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/batpak.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
