# Builds WASI modules from source during the build: C with Debian's clang + wasi-libc, Go with
# GOOS=wasip1. Outputs land in ${WWP_MODULE_OUT_DIR}.
set(WWP_MODULE_OUT_DIR "${CMAKE_BINARY_DIR}/modules")
file(MAKE_DIRECTORY "${WWP_MODULE_OUT_DIR}")
find_program(WWP_WASI_CLANG NAMES clang-14 clang REQUIRED)
find_program(WWP_GO go PATHS /usr/local/go/bin REQUIRED)
add_custom_target(wasm_modules ALL)

function(wwp_c_module name source)
  set(out "${WWP_MODULE_OUT_DIR}/${name}.wasm")
  add_custom_command(
    OUTPUT "${out}"
    COMMAND "${WWP_WASI_CLANG}" --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Werror
            ${ARGN} -o "${out}" "${source}"
    DEPENDS "${source}"
    COMMENT "wasm32-wasi: ${name}.wasm")
  add_custom_target(module_${name} DEPENDS "${out}")
  add_dependencies(wasm_modules module_${name})
endfunction()

function(wwp_go_module name source_dir)
  set(out "${WWP_MODULE_OUT_DIR}/${name}.wasm")
  file(GLOB go_sources "${source_dir}/*.go" "${source_dir}/go.mod")
  add_custom_command(
    OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} -E env GOOS=wasip1 GOARCH=wasm GOFLAGS=-mod=mod
            "${WWP_GO}" build -trimpath -o "${out}" .
    WORKING_DIRECTORY "${source_dir}"
    DEPENDS ${go_sources}
    COMMENT "wasip1 (Go): ${name}.wasm")
  add_custom_target(module_${name} DEPENDS "${out}")
  add_dependencies(wasm_modules module_${name})
endfunction()

include(${CMAKE_CURRENT_LIST_DIR}/KitModules.cmake)
