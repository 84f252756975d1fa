# Cross-builds the plugin for linux/arm64 on a Debian amd64 host (scripts/release.sh):
#   Debian gcc-aarch64-linux-gnu / g++-aarch64-linux-gnu, the arm64 -dev libraries installed through
#   multiarch (dpkg --add-architecture arm64) into /usr/lib/aarch64-linux-gnu, and Wasmtime's C API
#   built by cargo for the matching Rust target (cmake/Wasmtime.cmake reads WWP_RUST_TARGET).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(WWP_RUST_TARGET aarch64-unknown-linux-gnu CACHE STRING "Rust target of wasmtime-shim")

# Multiarch keeps arm64 libraries in /usr/lib/aarch64-linux-gnu and shares /usr/include; search
# the host's root for libraries and headers but never run or link host programs' libraries.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# The cross compiler does not search /usr/include; add the multiarch header dirs after its own
# (glibc, libstdc++), never before: as -isystem, /usr/include would shadow libstdc++'s <stdlib.h>
# wrapper. CMake then counts them as implicit and adds no -isystem /usr/include for packages.
set(multiarch_includes "-idirafter /usr/include/aarch64-linux-gnu -idirafter /usr/include")
set(CMAKE_C_FLAGS_INIT "${multiarch_includes}")
set(CMAKE_CXX_FLAGS_INIT "${multiarch_includes}")
# The libraries' own dependencies (libcurl's libnghttp2, ...) for the linker.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,/usr/lib/aarch64-linux-gnu -Wl,-rpath-link,/lib/aarch64-linux-gnu")
# pkg-config: the arm64 .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
# Debian's libyaml-cpp-dev cannot be co-installed for two architectures (it is not Multi-Arch:
# same), so scripts/release.sh unpacks the arm64 one into WWP_ARM64_EXTRA_ROOT instead.
if(DEFINED ENV{WWP_ARM64_EXTRA_ROOT})
  list(PREPEND CMAKE_FIND_ROOT_PATH "$ENV{WWP_ARM64_EXTRA_ROOT}")
endif()
