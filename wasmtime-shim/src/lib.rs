//! Re-exports Wasmtime's C API so that `cargo build` produces one static archive
//! (`libwasmtime_shim.a`) that the C++ build links against.
pub use wasmtime_c_api::*;
