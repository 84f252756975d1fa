# Builds Wasmtime's C API through the staticlib crate in wasmtime-shim/ (pinned by its Cargo.lock)
# and exposes it as the imported target `wasmtime::wasmtime`. Cargo's target dir lives outside
# the source tree so that clean clones (CI) rebuild incrementally.
if(DEFINED ENV{WWP_CARGO_TARGET_DIR})
  set(WWP_CARGO_TARGET_DIR "$ENV{WWP_CARGO_TARGET_DIR}")
else()
  set(WWP_CARGO_TARGET_DIR "$ENV{HOME}/.cache/wasm-workflows-plugin/cargo-target")
endif()
set(WWP_SHIM_DIR "${PROJECT_SOURCE_DIR}/wasmtime-shim")

# A cross build (cmake/toolchain-aarch64.cmake) names the Rust target; cargo then writes to
# <target dir>/<triple>/release and compiles the crates' C parts with <triple's gcc>.
set(WWP_RUST_TARGET "" CACHE STRING "Rust target triple of wasmtime-shim (empty: the host)")
set(cargo_target_args)
set(WWP_SHIM_PROFILE_DIR "${WWP_CARGO_TARGET_DIR}/release")
if(WWP_RUST_TARGET)
  set(cargo_target_args --target "${WWP_RUST_TARGET}")
  set(WWP_SHIM_PROFILE_DIR "${WWP_CARGO_TARGET_DIR}/${WWP_RUST_TARGET}/release")
endif()

message(STATUS "Building wasmtime-shim (cargo target dir ${WWP_CARGO_TARGET_DIR} ${WWP_RUST_TARGET})")
# Clones at other paths (worktrees) share the target dir and its one libwasmtime_shim.a, and cargo
# keeps a freshness record per clone: another clone's build can leave its archive there while ours
# counts as fresh. Re-making the shim crate itself takes about a second (dependencies stay built).
file(TOUCH_NOCREATE "${WWP_SHIM_DIR}/src/lib.rs")
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env "CARGO_TARGET_DIR=${WWP_CARGO_TARGET_DIR}" cargo build --release --locked
          ${cargo_target_args}
  WORKING_DIRECTORY "${WWP_SHIM_DIR}"
  RESULT_VARIABLE cargo_result
  COMMAND_ECHO STDOUT)
if(NOT cargo_result EQUAL 0)
  message(FATAL_ERROR "cargo build of wasmtime-shim failed")
endif()

# A copy per build tree, so another clone's configure step cannot swap it under our build.
set(WWP_WASMTIME_LIB "${CMAKE_BINARY_DIR}/wasmtime-shim/libwasmtime_shim.a")
file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/wasmtime-shim")
file(COPY_FILE "${WWP_SHIM_PROFILE_DIR}/libwasmtime_shim.a" "${WWP_WASMTIME_LIB}"
     ONLY_IF_DIFFERENT)
# wasmtime-shim's build script records the include dir of exactly the feature set built.
file(READ "${WWP_SHIM_PROFILE_DIR}/wasmtime-include-dir.txt" wasmtime_include)
string(STRIP "${wasmtime_include}" wasmtime_include)

add_library(wasmtime::wasmtime STATIC IMPORTED GLOBAL)
set_target_properties(wasmtime::wasmtime PROPERTIES
  IMPORTED_LOCATION "${WWP_WASMTIME_LIB}"
  INTERFACE_INCLUDE_DIRECTORIES "${wasmtime_include}"
  INTERFACE_LINK_LIBRARIES "Threads::Threads;dl;m")
# The crate version is part of the precompiled-module cache key.
file(READ "${WWP_SHIM_DIR}/Cargo.toml" shim_toml)
string(REGEX MATCH "wasmtime-c-api-impl\\]\nversion = \"=([0-9.]+)\"" _ "${shim_toml}")
set(WWP_WASMTIME_VERSION "${CMAKE_MATCH_1}")
message(STATUS "Wasmtime ${WWP_WASMTIME_VERSION}: ${wasmtime_include}")
