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

/// Turns on the `PAGEMAP_SCAN` ioctl (Linux 6.7+) for resetting pooled memories: with
/// `linear_memory_keep_resident`, a finished instance's dirty pages are found in one ioctl and
/// copied back from the module's image, instead of `madvise(MADV_DONTNEED)` on the slot. The
/// madvise flushed the TLB of every CPU the process ran on (an IPI, costly in a VM) and the next
/// step copy-on-write faulted the same pages in again. `Auto`: off where the kernel lacks it.
///
/// # Safety
/// `config` must point to a live `wasmtime_pooling_allocation_config_t`. That type is
/// `struct { config: PoolingAllocationConfig }` with crate-private access; a single-field struct
/// has its field's layout (checked below), so its address is the config's.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wwp_pooling_allocation_config_pagemap_scan_auto(config: *mut wasmtime_pooling_allocation_config_t) {
    const _: () = assert!(
        std::mem::size_of::<wasmtime_pooling_allocation_config_t>() == std::mem::size_of::<wasmtime::PoolingAllocationConfig>()
    );
    let config = unsafe { &mut *(config as *mut wasmtime::PoolingAllocationConfig) };
    config.pagemap_scan(wasmtime::Enabled::Auto);
}

/// The step's memory limit, like `wasmtime_store_limiter(store, bytes, -1, -1, -1, -1)`, plus a
/// flag the limiter sets when it refuses a growth: the C API's limiter cannot say so, and a module
/// that sees `memory.grow` fail usually just exits with some code, which alone would leave the
/// step's message without its reason.
///
/// # Safety
/// `store` must point to a live `wasmtime_store_t`, and `refused` to a bool that outlives every
/// call into the store's Wasm (the limiter writes it from the thread running that Wasm).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn wwp_store_memory_limiter(store: *mut wasmtime_store_t, memory_bytes: usize, refused: *mut bool) {
    // `wasmtime_store_t` is `struct { store: Store<WasmtimeStoreData> }` with crate-private access;
    // a single-field struct has its field's layout (checked below), so its address is the Store's.
    const _: () = assert!(
        std::mem::size_of::<wasmtime_store_t>() == std::mem::size_of::<wasmtime::Store<WasmtimeStoreData>>()
    );
    let store = unsafe { &mut *(store as *mut wasmtime::Store<WasmtimeStoreData>) };
    let limiter = OwnedLimiter(Box::into_raw(Box::new(RefusalRecordingLimiter { memory_bytes, refused })));
    store.limiter(move |_| unsafe { &mut *limiter.get() });
}

struct RefusalRecordingLimiter {
    memory_bytes: usize,
    refused: *mut bool,
}

impl wasmtime::ResourceLimiter for RefusalRecordingLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let allowed = desired <= self.memory_bytes && maximum.is_none_or(|max| desired <= max);
        if !allowed {
            unsafe { *self.refused = true };
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        unsafe { *self.refused = true };
        Ok(())
    }

    fn table_growing(&mut self, _current: usize, _desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(true)
    }
}

/// Owns the limiter for as long as the store keeps the closure that hands it out.
struct OwnedLimiter(*mut RefusalRecordingLimiter);

impl OwnedLimiter {
    fn get(&self) -> *mut RefusalRecordingLimiter {
        self.0
    }
}

impl Drop for OwnedLimiter {
    fn drop(&mut self) {
        drop(unsafe { Box::from_raw(self.0) });
    }
}

// The store calls the limiter only from the thread running its Wasm, one call at a time, and the
// flag it writes is read by that thread after the call.
unsafe impl Send for OwnedLimiter {}
unsafe impl Sync for OwnedLimiter {}
unsafe impl Send for RefusalRecordingLimiter {}
unsafe impl Sync for RefusalRecordingLimiter {}
