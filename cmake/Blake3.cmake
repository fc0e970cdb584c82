# BLAKE3 from the official C sources shipped in Debian's librust-blake3-dev, built as a
# static library with its runtime SIMD dispatch (SSE2/SSE4.1/AVX2/AVX-512 assembly on x86-64).
file(GLOB _blake3_dirs LIST_DIRECTORIES true /usr/share/cargo/registry/blake3-*/c)
list(SORT _blake3_dirs)
list(GET _blake3_dirs -1 BLAKE3_C_DIR)
if(NOT EXISTS "${BLAKE3_C_DIR}/blake3.h")
  message(FATAL_ERROR "BLAKE3 C sources not found; run scripts/setup (librust-blake3-dev)")
endif()
message(STATUS "BLAKE3 C sources: ${BLAKE3_C_DIR}")

set(_b3 ${BLAKE3_C_DIR})
add_library(batpak_blake3 OBJECT
  ${_b3}/blake3.c ${_b3}/blake3_dispatch.c ${_b3}/blake3_portable.c
  ${PROJECT_SOURCE_DIR}/src/util/blake3_many.c)  # Ours: the many-input kernel, through blake3_impl.h.
target_include_directories(batpak_blake3 PRIVATE ${PROJECT_SOURCE_DIR}/src)
if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  target_sources(batpak_blake3 PRIVATE
    ${_b3}/blake3_sse2_x86-64_unix.S ${_b3}/blake3_sse41_x86-64_unix.S
    ${_b3}/blake3_avx2_x86-64_unix.S ${_b3}/blake3_avx512_x86-64_unix.S)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  target_sources(batpak_blake3 PRIVATE ${_b3}/blake3_neon.c)
  target_compile_definitions(batpak_blake3 PRIVATE BLAKE3_USE_NEON=1)
else()
  target_compile_definitions(batpak_blake3 PRIVATE
    BLAKE3_NO_SSE2 BLAKE3_NO_SSE41 BLAKE3_NO_AVX2 BLAKE3_NO_AVX512)
endif()
target_include_directories(batpak_blake3 SYSTEM PUBLIC $<BUILD_INTERFACE:${_b3}>)
set_target_properties(batpak_blake3 PROPERTIES C_STANDARD 99 POSITION_INDEPENDENT_CODE ON)
