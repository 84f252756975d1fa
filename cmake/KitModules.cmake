# The module kit's Wasm modules (examples/, contrib/): Rust crates with cargo for wasm32-wasip1,
# off-the-shelf Go programs with GOOS=wasip1 from the Go module proxy. Outputs land in
# ${WWP_MODULE_OUT_DIR} beside the test modules. Cargo's target directory lives outside the
# clone so that clean clones and the ASan build reuse it; Go's build cache does the same.
find_program(WWP_CARGO cargo PATHS $ENV{HOME}/.cargo/bin REQUIRED)
set(WWP_WASM_CARGO_TARGET_DIR "$ENV{HOME}/.cache/wasm-workflows-plugin/wasm-modules-target"
    CACHE PATH "Cargo target directory for the Rust Wasm modules")
# One cargo at a time: parallel cargo runs on one target directory only wait for its lock.
set_property(GLOBAL APPEND PROPERTY JOB_POOLS wwp_cargo=1)

# wwp_rust_module(<name> <crate dir> <binary name>): <name>.wasm from a crate's binary.
function(wwp_rust_module name crate_dir bin)
  set(out "${WWP_MODULE_OUT_DIR}/${name}.wasm")
  file(GLOB_RECURSE crate_sources CONFIGURE_DEPENDS "${crate_dir}/src/*.rs")
  file(GLOB sdk_sources CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/sdk/rust/src/*.rs")
  add_custom_command(
    OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} -E env CARGO_TARGET_DIR=${WWP_WASM_CARGO_TARGET_DIR}
            "${WWP_CARGO}" build --quiet --locked --release --target wasm32-wasip1
            --manifest-path "${crate_dir}/Cargo.toml" --bin ${bin}
    COMMAND ${CMAKE_COMMAND} -E copy
            "${WWP_WASM_CARGO_TARGET_DIR}/wasm32-wasip1/release/${bin}.wasm" "${out}"
    DEPENDS ${crate_sources} "${crate_dir}/Cargo.toml" "${crate_dir}/Cargo.lock" ${sdk_sources}
            "${PROJECT_SOURCE_DIR}/sdk/rust/Cargo.toml"
    JOB_POOL wwp_cargo
    COMMENT "wasm32-wasip1 (Rust): ${name}.wasm")
  add_custom_target(module_${name} DEPENDS "${out}")
  add_dependencies(wasm_modules module_${name})
endfunction()

# wwp_go_tool_module(<name> <module dir> <package>): <name>.wasm from a program that the
# module in <module dir> requires as a `tool` (go.mod and go.sum pin the version).
function(wwp_go_tool_module name module_dir package)
  set(out "${WWP_MODULE_OUT_DIR}/${name}.wasm")
  add_custom_command(
    OUTPUT "${out}"
    COMMAND ${CMAKE_COMMAND} -E env GOOS=wasip1 GOARCH=wasm GOFLAGS=-mod=readonly
            "${WWP_GO}" build -trimpath -o "${out}" ${package}
    WORKING_DIRECTORY "${module_dir}"
    DEPENDS "${module_dir}/go.mod" "${module_dir}/go.sum"
    COMMENT "wasip1 (Go): ${name}.wasm from ${package}")
  add_custom_target(module_${name} DEPENDS "${out}")
  add_dependencies(wasm_modules module_${name})
endfunction()
