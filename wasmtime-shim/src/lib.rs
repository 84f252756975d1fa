//! Re-exports Wasmtime's C API so that `cargo build` produces one static archive
//! (`libwasmtime_shim.a`) that the C++ build links against, plus the few knobs the 48.x C API
//! does not expose (each `wwp_*` function below says why it exists).
pub use wasmtime_c_api::*;

/// Lets WASI file operations run on the calling thread instead of a hand-off to Tokio's blocking
/// pool and back (about 66 futex calls per earlier-ABI step). Safe for us: every step already runs
/// on its own worker thread, which is allowed to block.
///
/// # Safety
/// `config` must point to a live `wasi_config_t` from `wasi_config_new`. That type is
/// `#[repr(C)] struct { builder: WasiCtxBuilder }`, so its address is the builder's.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wwp_wasi_config_allow_blocking_current_thread(config: *mut wasi_config_t, enable: bool) {
    let builder = unsafe { &mut *(config as *mut wasmtime_wasi::WasiCtxBuilder) };
    builder.allow_blocking_current_thread(enable);
}
