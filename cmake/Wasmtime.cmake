# Builds Wasmtime's C API through the staticlib crate in wasmtime-shim/ (pinned by its Cargo.lock)
# and exposes it as the imported target `wasmtime::wasmtime`. Cargo's target dir lives outside
# the source tree so that clean clones (CI) rebuild incrementally.
if(DEFINED ENV{WWP_CARGO_TARGET_DIR})
  set(WWP_CARGO_TARGET_DIR "$ENV{WWP_CARGO_TARGET_DIR}")
else()
  set(WWP_CARGO_TARGET_DIR "$ENV{HOME}/.cache/wasm-workflows-plugin/cargo-target")
endif()
set(WWP_SHIM_DIR "${PROJECT_SOURCE_DIR}/wasmtime-shim")

message(STATUS "Building wasmtime-shim (cargo target dir ${WWP_CARGO_TARGET_DIR})")
execute_process(
  COMMAND cargo build --release --locked
  WORKING_DIRECTORY "${WWP_SHIM_DIR}"
  RESULT_VARIABLE cargo_result
  COMMAND_ECHO STDOUT)
if(NOT cargo_result EQUAL 0)
  message(FATAL_ERROR "cargo build of wasmtime-shim failed")
endif()

set(WWP_WASMTIME_LIB "${WWP_CARGO_TARGET_DIR}/release/libwasmtime_shim.a")
file(GLOB wasmtime_conf_headers LIST_DIRECTORIES false
     "${WWP_CARGO_TARGET_DIR}/release/build/wasmtime-c-api-impl-*/out/include/wasmtime/conf.h")
if(NOT wasmtime_conf_headers)
  message(FATAL_ERROR "wasmtime headers not found under ${WWP_CARGO_TARGET_DIR}")
endif()
# Several feature sets may have been built over time; the newest conf.h belongs to this build.
set(newest "")
foreach(header IN LISTS wasmtime_conf_headers)
  if(newest STREQUAL "" OR header IS_NEWER_THAN newest)
    set(newest "${header}")
  endif()
endforeach()
get_filename_component(wasmtime_include "${newest}" DIRECTORY)
get_filename_component(wasmtime_include "${wasmtime_include}" DIRECTORY)

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
