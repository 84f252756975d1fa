//! Records where wasmtime-c-api-impl installed its headers (its build script exports them through
//! `links = "wasmtime-c-api"`), so CMake includes exactly the headers of the features built here.
use std::{env, fs, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_WASMTIME_C_API_INCLUDE");
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");
    let include = env::var("DEP_WASMTIME_C_API_INCLUDE").expect("wasmtime-c-api-impl exports its include dir");
    // OUT_DIR is <target>/<profile>/build/wasmtime-shim-<hash>/out; the record goes to <target>/<profile>.
    let profile_dir = PathBuf::from(env::var("OUT_DIR").unwrap()).ancestors().nth(3).unwrap().to_path_buf();
    fs::write(profile_dir.join("wasmtime-include-dir.txt"), include).unwrap();
}
